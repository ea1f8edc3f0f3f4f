"""The desk's dispatcher tests use the dialog's bot under test (memory and Redis)."""

from tests.dialog.conftest import make_bot_under_test, storage_kind  # noqa: F401  (fixtures)
