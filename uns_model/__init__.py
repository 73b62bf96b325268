"""The UNS vocabulary: ISA-95 plant model, topic grammar, versioned contracts, catalog (no I/O)."""

from uns_model.contract_base import Event, Message, Payload, event_id_for
from uns_model.contracts import CONTRACT_VERSIONS, CONTRACTS, EVENT_CONTRACTS, parse_event, parse_message
from uns_model.erp import (
    QualityHoldRaised,
    QualityHoldReleased,
    WorkOrderClosed,
    WorkOrderReleased,
    WorkOrderUpdated,
)
from uns_model.errors import PlantIssue, PlantModelError
from uns_model.events import (
    DowntimeEnded,
    DowntimeStarted,
    GoodsFinished,
    GoodsFinishedV2,
    MaintenanceRequested,
    MaterialConsumed,
    ProductionReported,
    QualityDeviation,
)
from uns_model.loader import load_plant, parse_plant
from uns_model.payloads import DeliveryStatus, TagValue, TagValueV2
from uns_model.plant import PlantModel
from uns_model.resolver import PlantResolver, SparkplugAddress, TagRef
from uns_model.topics import Place, TopicError, UnsTopic, parse_topic

__all__ = [
    "CONTRACTS",
    "CONTRACT_VERSIONS",
    "EVENT_CONTRACTS",
    "DeliveryStatus",
    "DowntimeEnded",
    "DowntimeStarted",
    "Event",
    "GoodsFinished",
    "GoodsFinishedV2",
    "MaintenanceRequested",
    "MaterialConsumed",
    "Message",
    "Payload",
    "Place",
    "PlantIssue",
    "PlantModel",
    "PlantModelError",
    "PlantResolver",
    "ProductionReported",
    "QualityDeviation",
    "QualityHoldRaised",
    "QualityHoldReleased",
    "SparkplugAddress",
    "TagRef",
    "TagValue",
    "TagValueV2",
    "TopicError",
    "UnsTopic",
    "WorkOrderClosed",
    "WorkOrderReleased",
    "WorkOrderUpdated",
    "event_id_for",
    "load_plant",
    "parse_event",
    "parse_message",
    "parse_plant",
    "parse_topic",
]
