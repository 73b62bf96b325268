"""Simulated plants: a deterministic, seeded process model behind real OPC UA and Modbus TCP servers."""

from scenarios.sim.defaults import default_scenario
from scenarios.sim.plc import SimulatedPlant, connection_key
from scenarios.sim.process import PlantProcess
from scenarios.sim.scenario import (
    Breakdown,
    CncParams,
    OrderSpec,
    Overtemperature,
    PlcRestart,
    QualityDeviation,
    Recipe,
    Scenario,
)
from scenarios.sim.truth import GroundTruth

__all__ = [
    "Breakdown",
    "CncParams",
    "GroundTruth",
    "OrderSpec",
    "Overtemperature",
    "PlantProcess",
    "PlcRestart",
    "QualityDeviation",
    "Recipe",
    "Scenario",
    "SimulatedPlant",
    "connection_key",
    "default_scenario",
]
