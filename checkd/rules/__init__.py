"""Rules: the catalogue of measures, list types and time rules loaded from rules/, and its schema."""
