"""The host-side service: ingest, numpy windows, rules, durable outbox, UNS mirror, ERP publisher."""
