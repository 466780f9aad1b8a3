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
                    "id", "title", "polarity", "action", "departments", "triggers",
                    "subject_types", "roles", "mandatory", "legal_basis",
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
