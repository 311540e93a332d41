"""The report service: the standard template, intake, completeness, automatic hash check,
classification, de-duplication and linking, explained priority, access control and audit."""
