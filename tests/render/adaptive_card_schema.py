"""A compact subset of the Adaptive Card 1.4 JSON schema (adaptivecards.io/schemas/adaptive-card.json),
covering the elements Sherlog's cards use, strict about unknown properties and enum values."""

from __future__ import annotations

from typing import Any

_SPACING = {"enum": ["None", "Small", "Default", "Medium", "Large", "ExtraLarge", "Padding"]}
_COMMON = {"id": {"type": "string"}, "spacing": _SPACING, "separator": {"type": "boolean"},
           "isVisible": {"type": "boolean"}}

SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "$ref": "#/definitions/AdaptiveCard",
    "definitions": {
        "AdaptiveCard": {
            "type": "object",
            "required": ["type", "version"],
            "additionalProperties": False,
            "properties": {
                "type": {"const": "AdaptiveCard"},
                "$schema": {"type": "string"},
                "version": {"type": "string", "pattern": r"^1\.[0-6]$"},
                "body": {"type": "array", "items": {"$ref": "#/definitions/Element"}},
                "actions": {"type": "array", "items": {"$ref": "#/definitions/Action"}},
                "msteams": {"type": "object"},
            },
        },
        "Element": {"oneOf": [{"$ref": "#/definitions/TextBlock"}, {"$ref": "#/definitions/FactSet"},
                              {"$ref": "#/definitions/Container"}, {"$ref": "#/definitions/ActionSet"}]},
        "TextBlock": {
            "type": "object", "required": ["type", "text"], "additionalProperties": False,
            "properties": {
                **_COMMON,
                "type": {"const": "TextBlock"},
                "text": {"type": "string"},
                "wrap": {"type": "boolean"},
                "size": {"enum": ["Default", "Small", "Medium", "Large", "ExtraLarge"]},
                "weight": {"enum": ["Default", "Lighter", "Bolder"]},
                "color": {"enum": ["Default", "Dark", "Light", "Accent", "Good", "Warning", "Attention"]},
                "isSubtle": {"type": "boolean"},
                "fontType": {"enum": ["Default", "Monospace"]},
                "maxLines": {"type": "integer", "minimum": 1},
            },
        },
        "FactSet": {
            "type": "object", "required": ["type", "facts"], "additionalProperties": False,
            "properties": {
                **_COMMON,
                "type": {"const": "FactSet"},
                "facts": {"type": "array", "items": {
                    "type": "object", "required": ["title", "value"], "additionalProperties": False,
                    "properties": {"title": {"type": "string"}, "value": {"type": "string"}}}},
            },
        },
        "Container": {
            "type": "object", "required": ["type", "items"], "additionalProperties": False,
            "properties": {
                **_COMMON,
                "type": {"const": "Container"},
                "items": {"type": "array", "items": {"$ref": "#/definitions/Element"}},
                "style": {"enum": ["default", "emphasis", "good", "attention", "warning", "accent"]},
            },
        },
        "ActionSet": {
            "type": "object", "required": ["type", "actions"], "additionalProperties": False,
            "properties": {**_COMMON, "type": {"const": "ActionSet"},
                           "actions": {"type": "array", "items": {"$ref": "#/definitions/Action"}}},
        },
        "Action": {"oneOf": [
            {"type": "object", "required": ["type"], "additionalProperties": False,
             "properties": {"type": {"const": "Action.Submit"}, "title": {"type": "string"},
                            "data": {"type": ["object", "string"]}, "style": {"enum": ["default", "positive",
                                                                                        "destructive"]}}},
            {"type": "object", "required": ["type", "url"], "additionalProperties": False,
             "properties": {"type": {"const": "Action.OpenUrl"}, "title": {"type": "string"},
                            "url": {"type": "string", "pattern": "^https?://"}}},
        ]},
    },
}
