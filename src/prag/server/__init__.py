"""The HTTP service: live ingestion, hybrid answering, background encoding (`prag serve`)."""
