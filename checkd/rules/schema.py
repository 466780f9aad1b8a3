"""JSON Schema of the rules/ files (catalogue.yaml, lists.yaml, measures/*.yaml)."""

from __future__ import annotations

from typing import Any

from checkd.model import Action, Polarity, Role, SubjectType

_ID = {"type": "string", "pattern": r"^[a-z][a-z0-9_]*$"}
_DATE = {"type": ["string", "null"], "format": "date"}
_SUBJECT_TYPES = {"type": "array", "items": {"enum": [t.value for t in SubjectType]}, "minItems": 1}

CATALOGUE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["edition", "scenes", "departments"],
    "additionalProperties": False,
    "properties": {
        "edition": {"type": "string", "minLength": 1},
        "scenes": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["id", "name"],
                "additionalProperties": False,
                "properties": {"id": _ID, "name": {"type": "string", "minLength": 1}},
            },
        },
        "departments": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["id", "name"],
                "additionalProperties": False,
                "properties": {"id": _ID, "name": {"type": "string", "minLength": 1}},
            },
        },
    },
}

LISTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["list_types"],
    "additionalProperties": False,
    "properties": {
        "list_types": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["id", "name", "polarity", "subject_types", "repairable"],
                "additionalProperties": False,
                "properties": {
                    "id": _ID,
                    "name": {"type": "string", "minLength": 1},
                    "polarity": {"enum": [*(p.value for p in Polarity), "graded"]},
                    "subject_types": _SUBJECT_TYPES,
                    "default_months": {"type": ["integer", "null"], "minimum": 1},
                    "max_months": {"type": ["integer", "null"], "minimum": 1},
                    "repairable": {"type": "boolean"},
                    "severities": {"type": "array", "items": {"type": "string", "minLength": 1}},
                    "severity_polarity": {
                        "type": "object",
                        "additionalProperties": {"enum": [*(p.value for p in Polarity), None]},
                    },
                    "description": {"type": "string"},
                    "basis": {"type": "string"},
                    "uncertain": {"type": "string"},
                },
            },
        }
    },
}

MEASURES_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["measures"],
    "additionalProperties": False,
    "properties": {
        "measures": {
            "type": "array",
            "items": {
                "type": "object",
                "required": [
                    "id",
                    "title",
                    "polarity",
                    "action",
                    "departments",
                    "triggers",
                    "subject_types",
                    "roles",
                    "mandatory",
                    "legal_basis",
                ],
                "additionalProperties": False,
                "properties": {
                    "id": {"type": "string", "pattern": r"^[A-Z]{2,4}-[PR]-\d{3}$"},
                    "title": {"type": "string", "minLength": 1},
                    "polarity": {"enum": [p.value for p in Polarity]},
                    "action": {"enum": [a.value for a in Action]},
                    "departments": {"type": "array", "items": _ID, "minItems": 1},
                    "scenes": {"type": "array", "items": _ID},
                    "matters": {"type": "array", "items": {"type": "string", "minLength": 1}},
                    "triggers": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "required": ["list"],
                            "additionalProperties": False,
                            "properties": {
                                "list": _ID,
                                "severities": {"type": "array", "items": {"type": "string"}},
                            },
                        },
                    },
                    "subject_types": _SUBJECT_TYPES,
                    "roles": {"type": "array", "items": {"enum": [r.value for r in Role]}, "minItems": 1},
                    "mandatory": {"type": "boolean"},
                    "legal_basis": {"type": "string", "minLength": 2},
                    "effective_from": _DATE,
                    "effective_to": _DATE,
                    "source": {"type": "string"},
                    "uncertain": {"type": "string"},
                },
            },
        }
    },
}

_PERIOD = {
    "type": "object",
    "required": ["min_months"],
    "additionalProperties": False,
    "properties": {
        "min_months": {"type": "integer", "minimum": 0},
        "max_months": {"type": ["integer", "null"], "minimum": 1},
    },
}

TIME_RULES_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["fields", "editions"],
    "additionalProperties": False,
    "properties": {
        "fields": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "name", "lists"],
                "additionalProperties": False,
                "properties": {
                    "id": _ID,
                    "name": {"type": "string", "minLength": 1},
                    "lists": {"type": "array", "items": _ID, "minItems": 1},
                    "uncertain": {"type": "string"},
                },
            },
        },
        "editions": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "title", "effective_from", "periods"],
                "additionalProperties": False,
                "properties": {
                    "id": _ID,
                    "title": {"type": "string", "minLength": 1},
                    "effective_from": {"type": "string", "format": "date"},
                    "effective_to": _DATE,
                    "periods": {"type": "object", "additionalProperties": _PERIOD},
                    "uncertain": {"type": "string"},
                },
            },
        },
    },
}

_FILES = {
    "catalogue.yaml": CATALOGUE_SCHEMA,
    "lists.yaml": LISTS_SCHEMA,
    "measures/*.yaml": MEASURES_SCHEMA,
    "time_rules.yaml": TIME_RULES_SCHEMA,
}


def json_schema() -> dict[str, Any]:
    """One JSON Schema document describing every rules/ file, for editors and external tools.

    Each file's schema lives under `$defs`; a document validates against the one for its file.
    """
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://checkd.local/rules/schema.json",
        "title": "checkd rules/ files",
        "description": "Validate each rules/ file against the $defs entry named by its path "
        "(x-checkd-files maps file patterns to definitions).",
        "x-checkd-files": {pattern: f"#/$defs/{_def_name(pattern)}" for pattern in _FILES},
        "$defs": {_def_name(pattern): schema for pattern, schema in _FILES.items()},
        "oneOf": [{"$ref": f"#/$defs/{_def_name(pattern)}"} for pattern in _FILES],
    }


def _def_name(pattern: str) -> str:
    return pattern.replace("/*", "").removesuffix(".yaml")
