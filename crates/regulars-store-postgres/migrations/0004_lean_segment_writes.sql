-- Fewer index writes per transition, for ingest throughput: the log is read in seq order,
-- filtered as it goes, and only a filter on one member has an index to use, so the (model, day)
-- index goes. (The SQLite twin also rebuilds its tables; Postgres needs nothing more.)

DROP INDEX segment_transitions_by_model_day;
