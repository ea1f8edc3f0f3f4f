"""A small numbering-plan registry in the official format, and a list in five zones."""

from __future__ import annotations

from pathlib import Path

# As published: `;`-separated, «АВС/ DEF» with Cyrillic А, В, С, quoted operator names,
# the newer ИНН and territory columns after the region.
DEF_HEADER = "АВС/ DEF;От;До;Емкость;Оператор;Регион;ИНН;Территория ГАР"
DEF_ROWS = (
    '900;0000000;0061999;62000;ООО "Т2 Мобайл";Краснодарский край;7743895280;'
    "Краснодарский край",
    '914;0000000;0999999;1000000;ПАО "МТС";Приморский край;7740000076;Приморский край',
    '922;7000000;7999999;1000000;ПАО "МегаФон";Свердловская обл.;7812014560;'
    "Свердловская обл.",
    '923;1000000;1999999;1000000;ПАО "МегаФон";Новосибирская обл.;7812014560;'
    "Новосибирская обл.",
    '924;0000000;0099999;100000;ПАО "МТС";Камчатский край;7740000076;Камчатский край',
    '952;0000000;0999999;1000000;ООО "Т2 Мобайл";Калининградская обл.;7743895280;'
    "Калининградская обл.",
    # A range over regions in different zones: no one zone fits all of its numbers.
    '958;0000000;0999999;1000000;ООО "Т2 Мобайл";Российская Федерация;7743895280;',
)
# The older layout: no ИНН nor territory, Windows-1251.
ABC_HEADER = "АВС/ DEF;От;До;Емкость;Оператор;Регион"
ABC_ROWS = (
    '351;2000000;2999999;1000000;ПАО "Ростелеком";Челябинская обл.',
    '343;3000000;3999999;1000000;ПАО "Ростелеком";Свердловская обл.',
)


def write_registry(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "DEF-9xx.csv").write_bytes(
        ("\ufeff" + "\r\n".join((DEF_HEADER, *DEF_ROWS)) + "\r\n").encode("utf-8")
    )
    (directory / "ABC-3xx.csv").write_bytes(
        ("\r\n".join((ABC_HEADER, *ABC_ROWS)) + "\r\n").encode("cp1251")
    )
    return directory


# Five zones and an unknown: (phone, add_data) as they come out of the ingest.
FIVE_ZONES = (
    ("+73512123456", {}),  # landline: Челябинск by libphonenumber... and the registry
    ("+74012123456", {}),  # landline: Kaliningrad by libphonenumber (not Bucharest)
    ("+79140000001", {}),  # mobile, registry: Приморский край, UTC+10
    ("+79140000002", {}),
    ("+79221234567", {"Часовой пояс": "МСК+2"}),  # a zone column says UTC+5
    ("+79231234567", {}),  # mobile, registry: Новосибирск, UTC+7
    ("+79581234567", {"Город": "Новосибирск"}),  # registry cannot tell; the city column can
    ("+79580000002", {}),  # unknown: a range over several regions
)
