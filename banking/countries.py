"""ISO 3166-1 alpha-2 country codes, and the names customers read in evidence texts."""

from infra.languages import text_language

# All 249 officially assigned codes, plus XK (Kosovo), which banks and card schemes use.
ISO_COUNTRIES = frozenset(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO
    BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ
    DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP
    GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG
    KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML
    MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE
    PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL
    SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM
    US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW XK
    """.split()  # noqa: SIM905 - a block of codes is easier to check than 250 quoted strings
)

# (Dutch, English) with the article a sentence needs; other codes are shown as the code.
COUNTRY_NAMES = {
    "US": ("de Verenigde Staten", "the United States"),
    "CA": ("Canada", "Canada"),
    "MX": ("Mexico", "Mexico"),
    "BR": ("Brazilië", "Brazil"),
    "AR": ("Argentinië", "Argentina"),
    "CN": ("China", "China"),
    "JP": ("Japan", "Japan"),
    "KR": ("Zuid-Korea", "South Korea"),
    "IN": ("India", "India"),
    "ID": ("Indonesië", "Indonesia"),
    "TH": ("Thailand", "Thailand"),
    "VN": ("Vietnam", "Vietnam"),
    "SG": ("Singapore", "Singapore"),
    "AU": ("Australië", "Australia"),
    "NZ": ("Nieuw-Zeeland", "New Zealand"),
    "ZA": ("Zuid-Afrika", "South Africa"),
    "MA": ("Marokko", "Morocco"),
    "EG": ("Egypte", "Egypt"),
    "AE": ("de Verenigde Arabische Emiraten", "the United Arab Emirates"),
    "SR": ("Suriname", "Suriname"),
    "CW": ("Curaçao", "Curaçao"),
    "AW": ("Aruba", "Aruba"),
    "TR": ("Turkije", "Turkey"),
    "RU": ("Rusland", "Russia"),
    "NL": ("Nederland", "the Netherlands"),
    "BE": ("België", "Belgium"),
    "DE": ("Duitsland", "Germany"),
    "FR": ("Frankrijk", "France"),
    "ES": ("Spanje", "Spain"),
    "IT": ("Italië", "Italy"),
    "GB": ("het Verenigd Koninkrijk", "the United Kingdom"),
    "CH": ("Zwitserland", "Switzerland"),
}


def country_name(code: str, language: str) -> str:
    names = COUNTRY_NAMES.get(code)
    if names is None:
        return code
    return names[1] if text_language(language) == "en" else names[0]
