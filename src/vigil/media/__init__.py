"""Reading evidence: type sniffing, image decoding, containers. Yields paths and bytes, stores nothing."""
