import pathlib

import pytest
import spacy
import yaml
from rasa.shared.core.domain import Domain

from bot.core.content_store import get_content

PROJECT = pathlib.Path(__file__).parents[2]
SPACY_MODEL = PROJECT / "build" / "spacy" / "ivig_en"


@pytest.fixture(scope="session")
def content():
    return get_content()


@pytest.fixture(scope="session")
def domain():
    return Domain.load(str(PROJECT / "domain.yml"))


@pytest.fixture(scope="session")
def nlp():
    """The built project pipeline (make spacy), as Rasa's SpacyNLP loads it."""
    if not (SPACY_MODEL / "meta.json").exists():
        pytest.fail("build/spacy/ivig_en is missing: run `make spacy` first")
    return spacy.load(SPACY_MODEL)


@pytest.fixture(scope="session")
def triage_cases():
    """Hand-written cases of the deterministic triage: level -> [message] (`none`: no level may fire)."""
    return yaml.safe_load((pathlib.Path(__file__).parent / "triage_cases.yml").read_text())
