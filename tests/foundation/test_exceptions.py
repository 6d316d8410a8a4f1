"""One exception module, one base class, and the public names where users look for them."""

import importlib
import inspect

import pytest
from django.core.exceptions import ImproperlyConfigured

import videogen
from tests.foundation.test_imports import MODULES
from videogen import api, archive, exceptions, lifecycle, moving
from videogen.client import errors as client_errors
from videogen.webhooks import safety, signing

ERRORS = [value for name, value in vars(exceptions).items()
          if inspect.isclass(value) and issubclass(value, Exception)
          and not issubclass(value, Warning) and value.__module__ == exceptions.__name__]


def test_every_exception_of_the_module_is_a_videogen_error():
    assert len(ERRORS) > 25
    assert [e.__name__ for e in ERRORS if not issubclass(e, exceptions.VideogenError)] == []
    assert sorted(exceptions.__all__) == sorted(
        [e.__name__ for e in ERRORS] + [exceptions.RequestWarning.__name__])


def test_no_public_exception_is_defined_outside_it():
    """Apart from the two that must also be Django's ImproperlyConfigured, and the sandbox's
    own (it is a separate tool that imports nothing of the app but catalog and schemas)."""
    elsewhere = {}
    for name in MODULES:
        if name.startswith("videogen.sandbox") or name == exceptions.__name__:
            continue
        module = importlib.import_module(name)
        for attribute, value in vars(module).items():
            if (inspect.isclass(value) and issubclass(value, Exception)
                    and not issubclass(value, Warning) and value.__module__ == name
                    and not attribute.startswith("_")):
                elsewhere[f"{name}.{attribute}"] = value
    assert set(elsewhere) == {"videogen.conf.InvalidSettings", "videogen.storage.UnknownStorage"}
    assert all(issubclass(e, exceptions.VideogenError) and issubclass(e, ImproperlyConfigured)
               for e in elsewhere.values())


@pytest.mark.parametrize(("module", "name"), [
    (lifecycle, "InvalidTransition"), (lifecycle, "BudgetExceeded"),
    (lifecycle, "NotConfigured"), (lifecycle, "LifecycleError"), (api, "InvalidRequest"),
    (api, "WaitTimeout"), (api, "RequestWarning"), (archive, "CallerGaveUp"),
    (archive, "ArchiveError"), (client_errors, "NotFound"), (client_errors, "VideoAPIError"),
    (signing, "WebhookVerificationError"), (safety, "UnsafeURL"), (moving, "MoveError"),
])
def test_the_old_names_still_import(module, name):
    assert getattr(module, name) is getattr(exceptions, name)


def test_the_other_bases_still_match():
    """``except ValueError`` around create() and ``except TimeoutError`` around wait() work."""
    assert issubclass(exceptions.InvalidRequest, ValueError)
    assert issubclass(exceptions.WaitTimeout, TimeoutError)
    assert issubclass(exceptions.UnsafeURL, ValueError)
    assert issubclass(exceptions.RequestWarning, UserWarning)
    assert issubclass(exceptions.NotFound, exceptions.VideoAPIError)


def test_the_package_exports_exactly_the_api():
    assert videogen.__all__ == api.__all__
    assert all(getattr(videogen, name) is getattr(api, name) for name in api.__all__)
    assert videogen.VideogenError is exceptions.VideogenError
