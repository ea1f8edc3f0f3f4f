"""Gettext catalogs from `locales/`: Russian by default, English on request."""

from __future__ import annotations

import gettext
import io
import os
from pathlib import Path

from aiogram.utils.i18n import I18n
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

DOMAIN = "messages"
# The repository's locales/ (editable installs, tests); LOCALES_DIR where it lives elsewhere
# (the Docker image installs the package into site-packages).
LOCALES_DIR = Path(
    os.environ.get("LOCALES_DIR") or Path(__file__).resolve().parent.parent / "locales"
)


def _load_catalog(locale_dir: Path, domain: str) -> gettext.GNUTranslations | None:
    po_path = locale_dir / "LC_MESSAGES" / f"{domain}.po"
    mo_path = po_path.with_suffix(".mo")
    if mo_path.exists() and (
        not po_path.exists() or mo_path.stat().st_mtime >= po_path.stat().st_mtime
    ):
        with mo_path.open("rb") as fp:
            return gettext.GNUTranslations(fp)
    if not po_path.exists():
        return None
    # A fresh clone has only .po files: compile in memory instead of refusing to start
    # (aiogram's own I18n raises on a .po without .mo) or writing into the install tree.
    with po_path.open("rb") as fp:
        catalog = read_po(fp, locale=locale_dir.name, domain=domain)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


class CatalogI18n(I18n):
    """aiogram's I18n, but it compiles a stale or missing .mo from its .po on load."""

    def find_locales(self) -> dict[str, gettext.GNUTranslations]:
        translations: dict[str, gettext.GNUTranslations] = {}
        for locale_dir in sorted(self.path.iterdir()):
            if locale_dir.is_dir():
                catalog = _load_catalog(locale_dir, self.domain)
                if catalog is not None:
                    translations[locale_dir.name] = catalog
        return translations


# aiogram's gettext() finds the instance through I18n's own context variable, but every
# subclass is given a variable of its own: share I18n's, or `_()` would find nothing.
CatalogI18n._ContextInstanceMixin__context_instance = (  # type: ignore[attr-defined]
    I18n._ContextInstanceMixin__context_instance  # type: ignore[attr-defined]
)


def create_i18n(default_locale: str = "ru", path: Path = LOCALES_DIR) -> CatalogI18n:
    return CatalogI18n(path=path, default_locale=default_locale, domain=DOMAIN)
