"""The 89 federal subjects of Russia and their IANA zones, and a resolver from the ways the
numbering-plan registry, libphonenumber and people spell a region (or its main city).

One zone per subject: the zone of its administrative centre. Yakutia spans three zones
(UTC+9..+11); its registry lines do not say which district, so Yakutsk's is taken.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True, slots=True)
class Subject:
    name: str  # the official short name
    zone: str  # IANA zone of the administrative centre
    stems: tuple[str, ...]  # word beginnings that name it (region or its cities), lower case


def _s(name: str, zone: str, *stems: str) -> Subject:
    return Subject(name, zone, stems)


MSK = "Europe/Moscow"

SUBJECTS: tuple[Subject, ...] = (
    # Republics
    _s("Республика Адыгея", MSK, "адыге", "майкоп"),
    _s("Республика Алтай", "Asia/Barnaul", "республика алтай", "алтай республика",
       "горно-алтайск"),
    _s("Республика Башкортостан", "Asia/Yekaterinburg", "башкор", "уфа", "стерлитамак"),
    _s("Республика Бурятия", "Asia/Irkutsk", "бурят", "улан-удэ"),
    _s("Республика Дагестан", MSK, "дагестан", "махачкал", "дербент"),
    _s("Донецкая Народная Республика", MSK, "донецк", "днр", "мариупол", "макеевк"),
    _s("Республика Ингушетия", MSK, "ингуш", "магас", "назран"),
    _s("Кабардино-Балкарская Республика", MSK, "кабардино", "нальчик"),
    _s("Республика Калмыкия", MSK, "калмык", "элист"),
    _s("Карачаево-Черкесская Республика", MSK, "карачаево", "черкесск"),
    _s("Республика Карелия", MSK, "карел", "петрозаводск"),
    _s("Республика Коми", MSK, "коми", "сыктывкар", "воркут", "ухт"),
    _s("Республика Крым", "Europe/Simferopol", "крым", "симферопол", "керч", "ялт"),
    _s("Луганская Народная Республика", MSK, "луганск", "лнр"),
    _s("Республика Марий Эл", MSK, "марий", "йошкар"),
    _s("Республика Мордовия", MSK, "мордов", "саранск"),
    _s("Республика Саха (Якутия)", "Asia/Yakutsk", "саха", "якут"),
    _s("Республика Северная Осетия — Алания", MSK, "северная осетия", "осетия", "алания",
       "владикавказ"),
    _s("Республика Татарстан", MSK, "татарстан", "казан", "набережные челны",
       "нижнекамск", "альметьевск"),
    _s("Республика Тыва", "Asia/Krasnoyarsk", "тыва", "тува", "кызыл"),
    _s("Удмуртская Республика", "Europe/Samara", "удмурт", "ижевск"),
    _s("Республика Хакасия", "Asia/Krasnoyarsk", "хакас", "абакан"),
    _s("Чеченская Республика", MSK, "чечен", "чечня", "грозн"),
    _s("Чувашская Республика", MSK, "чуваш", "чебоксар"),
    # Krais
    _s("Алтайский край", "Asia/Barnaul", "алтайский", "барнаул", "бийск"),
    _s("Забайкальский край", "Asia/Chita", "забайкал", "чита", "читин"),
    _s("Камчатский край", "Asia/Kamchatka", "камчат", "петропавловск-камчатский"),
    _s("Краснодарский край", MSK, "краснодар", "сочи", "новороссийск", "кубан", "анап"),
    _s("Красноярский край", "Asia/Krasnoyarsk", "красноярск", "норильск"),
    _s("Пермский край", "Asia/Yekaterinburg", "перм"),
    _s("Приморский край", "Asia/Vladivostok", "примор", "владивосток", "находк",
       "уссурийск"),
    _s("Ставропольский край", MSK, "ставропол", "пятигорск", "кисловодск"),
    _s("Хабаровский край", "Asia/Vladivostok", "хабаровск", "комсомольск-на-амуре"),
    # Oblasts
    _s("Амурская область", "Asia/Yakutsk", "амурская", "благовещенск"),
    _s("Архангельская область", MSK, "архангельск", "северодвинск"),
    _s("Астраханская область", "Europe/Astrakhan", "астрахан"),
    _s("Белгородская область", MSK, "белгород"),
    _s("Брянская область", MSK, "брянск"),
    _s("Владимирская область", MSK, "владимир"),
    _s("Волгоградская область", "Europe/Volgograd", "волгоград"),
    _s("Вологодская область", MSK, "вологод", "вологда", "череповец"),
    _s("Воронежская область", MSK, "воронеж"),
    _s("Запорожская область", MSK, "запорож", "мелитопол"),
    _s("Ивановская область", MSK, "иванов"),
    _s("Иркутская область", "Asia/Irkutsk", "иркутск", "братск", "ангарск"),
    _s("Калининградская область", "Europe/Kaliningrad", "калининград"),
    _s("Калужская область", MSK, "калуг", "калужск", "обнинск"),
    _s("Кемеровская область — Кузбасс", "Asia/Novokuznetsk", "кемеров", "кузбас",
       "новокузнецк"),
    _s("Кировская область", "Europe/Kirov", "кировск", "киров"),
    _s("Костромская область", MSK, "костром"),
    _s("Курганская область", "Asia/Yekaterinburg", "курган"),
    _s("Курская область", MSK, "курская", "курск"),
    _s("Ленинградская область", MSK, "ленинград"),
    _s("Липецкая область", MSK, "липец", "липецк"),
    _s("Магаданская область", "Asia/Magadan", "магадан"),
    _s("Московская область", MSK, "московская", "подмосков"),
    _s("Мурманская область", MSK, "мурманск"),
    _s("Нижегородская область", MSK, "нижегород", "нижний новгород"),
    _s("Новгородская область", MSK, "новгородская", "великий новгород"),
    _s("Новосибирская область", "Asia/Novosibirsk", "новосибирск"),
    _s("Омская область", "Asia/Omsk", "омская", "омск"),
    _s("Оренбургская область", "Asia/Yekaterinburg", "оренбург", "орск"),
    _s("Орловская область", MSK, "орловск", "орел", "орёл"),
    _s("Пензенская область", MSK, "пензен", "пенза"),
    _s("Псковская область", MSK, "псков"),
    _s("Ростовская область", MSK, "ростовская", "ростов-на-дону", "таганрог", "шахты"),
    _s("Рязанская область", MSK, "рязан"),
    _s("Самарская область", "Europe/Samara", "самар", "тольятти"),
    _s("Саратовская область", "Europe/Saratov", "саратов"),
    _s("Сахалинская область", "Asia/Sakhalin", "сахалин", "южно-сахалинск"),
    _s("Свердловская область", "Asia/Yekaterinburg", "свердлов", "екатеринбург",
       "нижний тагил"),
    _s("Смоленская область", MSK, "смоленск"),
    _s("Тамбовская область", MSK, "тамбов"),
    _s("Тверская область", MSK, "тверск", "тверь"),
    _s("Томская область", "Asia/Tomsk", "томская", "томск"),
    _s("Тульская область", MSK, "тульская", "тула"),
    _s("Тюменская область", "Asia/Yekaterinburg", "тюмен", "тобольск"),
    _s("Ульяновская область", "Europe/Ulyanovsk", "ульянов"),
    _s("Херсонская область", MSK, "херсон"),
    _s("Челябинская область", "Asia/Yekaterinburg", "челябинск", "магнитогорск",
       "златоуст"),
    _s("Ярославская область", MSK, "ярослав"),
    # Federal cities
    _s("Москва", MSK, "москва", "московский"),
    _s("Санкт-Петербург", MSK, "санкт-петербург", "петербург", "спб"),
    _s("Севастополь", "Europe/Simferopol", "севастопол"),
    # Autonomous oblast and okrugs
    _s("Еврейская автономная область", "Asia/Vladivostok", "еврейская", "биробиджан"),
    _s("Ненецкий автономный округ", MSK, "ненецкий", "нарьян-мар"),
    _s("Ханты-Мансийский автономный округ — Югра", "Asia/Yekaterinburg", "ханты", "югра",
       "сургут", "нижневартовск"),
    _s("Чукотский автономный округ", "Asia/Anadyr", "чукот", "анадыр"),
    _s("Ямало-Ненецкий автономный округ", "Asia/Yekaterinburg", "ямало-ненецкий", "ямало", "ямал",
       "салехард", "новый уренгой", "ноябрьск"),
)

_SPACES = re.compile(r"[\s_]+")
_DASHES = re.compile(r"\s*[-‐‑–—]\s*")


def _norm(text: str) -> str:
    text = text.lower().replace("ё", "е")
    text = _DASHES.sub("-", text)
    return _SPACES.sub(" ", text).strip()


def _build_pattern() -> tuple[re.Pattern[str], dict[str, Subject]]:
    by_stem: dict[str, Subject] = {}
    for subject in SUBJECTS:
        for stem in subject.stems:
            key = _norm(stem)
            if key in by_stem and by_stem[key] is not subject:
                raise ValueError(f"stem {stem!r} names two subjects")
            by_stem[key] = subject
    # Longest stems first, so that «ямало-ненецкий» is not read as «ненецкий», nor
    # «Республика Алтай» as «Алтайский край»; a stem starts a word (not «уфа» in «туфаль»).
    alternatives = sorted(by_stem, key=len, reverse=True)
    pattern = re.compile(
        r"(?<![а-яa-z0-9])(?:" + "|".join(re.escape(s) for s in alternatives) + ")"
    )
    return pattern, by_stem


_PATTERN, _BY_STEM = _build_pattern()


@lru_cache(maxsize=4096)
def subject_zone(text: str) -> str | None:
    """The IANA zone of the region a text names, or None: «Челябинская обл.»,
    «г. Москва и Московская область», «Кемеровская обл. - Кузбасс», «Екатеринбург».
    Names of subjects in different zones in one text (a registry line over several
    regions) give None: no one zone is right for all of its numbers."""
    if not text:
        return None
    zones = {_BY_STEM[m.group(0)].zone for m in _PATTERN.finditer(_norm(text))}
    return zones.pop() if len(zones) == 1 else None


def subject_of(text: str) -> Subject | None:
    """The first subject a text names (for display and tests)."""
    match = _PATTERN.search(_norm(text or ""))
    return _BY_STEM[match.group(0)] if match else None
