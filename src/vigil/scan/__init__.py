"""The triage pipeline: walk evidence, hash it in worker processes, match, group, record."""
