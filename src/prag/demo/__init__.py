"""The bundled demo collection: invented documents and questions about them, as package data."""
