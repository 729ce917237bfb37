"""What each MARS task's CSV holds: the columns (with the aliases we accept) and the label convention.

Only the Transition columns are confirmed by the reference code (HKUST-KnowComp/MARS,
``evaluation/zero-shot/*.py``); the Event and Inference columns are inferred from the curation
scripts (spec section 3), so every role lists the names we accept and ``-T columns=`` can map a
role to any column when a release uses other names.
"""

from __future__ import annotations

from dataclasses import dataclass, field

LABEL_PLAUSIBLE = 1  # "yes", Reality
LABEL_METAPHYSICAL = 0  # "no", Metaphysical
LABEL_WORDS = {LABEL_PLAUSIBLE: "yes", LABEL_METAPHYSICAL: "no"}
SPLITS = ("train", "dev", "test")
SPLIT_ALIASES: dict[str, tuple[str, ...]] = {
    "train": ("train", "training"),
    "dev": ("dev", "validation", "valid", "val"),
    "test": ("test",),
}


@dataclass(frozen=True)
class Role:
    """One field a task needs, found under the first of ``candidates`` present in the file."""

    name: str
    candidates: tuple[str, ...]
    required: bool = True
    buildable: bool = False  # may be built from original_event + component_original/substitution


@dataclass(frozen=True)
class TaskSchema:
    key: str  # event | inference | transition
    title: str
    roles: tuple[Role, ...]
    folder_aliases: tuple[str, ...]  # normalised folder/file tokens that name this task in a repo
    group_columns: tuple[str, ...] = field(default=())  # optional breakdowns (component type)

    def role(self, name: str) -> Role:
        for role in self.roles:
            if role.name == name:
                return role
        raise KeyError(name)


LABEL_ROLE = Role("label", ("label", "labels", "gold", "answer"))
# The changed event is never read from the plain ``event`` column: in the curation files that column
# holds the *original* event, and showing it would ask the model about the unchanged event.
CHANGED_EVENT = ("event_replaced", "replaced_event", "modified_event", "changed_event")
# A release may instead hold the original event plus the substituted component (curation step 4's
# columns); the loader then builds the changed event from them (see ``changed_event.py``).
COMPONENT_ROLES = (
    Role("original_event", ("original_event", "event_original", "event"), required=False),
    Role("component_original", ("component_original",), required=False),
    Role("component_substitution", ("component_substitution",), required=False),
)

EVENT = TaskSchema(
    key="event",
    title="Metaphysical Event",
    roles=(
        Role("event", CHANGED_EVENT, buildable=True),
        *COMPONENT_ROLES,
        LABEL_ROLE,
    ),
    folder_aliases=("event", "me", "metaevent", "metaphysicalevent", "metaphysicaleventdiscrimination"),
    group_columns=("component_type",),
)

INFERENCE = TaskSchema(
    key="inference",
    title="Metaphysical Inference",
    roles=(
        Role("event", CHANGED_EVENT, buildable=True),
        Role("inference", ("inference", "metaphysical_inference")),
        *COMPONENT_ROLES,
        LABEL_ROLE,
    ),
    folder_aliases=(
        "inference",
        "mi",
        "metainference",
        "metaphysicalinference",
        "metaphysicalinferencediscrimination",
    ),
    group_columns=("component_type", "event_type"),
)

TRANSITION = TaskSchema(
    key="transition",
    title="Metaphysical Transition",
    roles=(
        Role("event", ("event_after_transition",)),
        Role("inference", ("inference",)),
        LABEL_ROLE,
    ),
    folder_aliases=(
        "transition",
        "mt",
        "metatransition",
        "metaphysicaltransition",
        "metaphysicaltransitiondiscrimination",
        "transitiondiscrimination",
        "transitionreasoning",
    ),
    group_columns=("transition_type",),
)

SCHEMAS: dict[str, TaskSchema] = {s.key: s for s in (EVENT, INFERENCE, TRANSITION)}
