"""Static world of the simulator: Brazilian states, zip prefixes, cities, product categories.

Everything here is public general knowledge (state populations, capitals and their
coordinates, the CEP ranges of each state, common city names) or invented (the category
price/weight profiles, review phrases). Nothing is copied from the Olist dataset.
The reference tables built here are a pure function of nothing: every run, seed and
format gets the same geolocation and category-translation rows.
"""

from __future__ import annotations

import numpy as np

from shopdw.contracts import BR_STATES

# code: (population in millions (2022 census, rounded), capital lat, capital lng, CEP range, cities)
_STATES: dict[str, tuple[float, float, float, tuple[int, int], tuple[str, ...]]] = {
    "AC": (0.83, -9.97, -67.81, (69900, 69999), ("rio branco", "cruzeiro do sul")),
    "AL": (3.13, -9.67, -35.74, (57000, 57999), ("maceio", "arapiraca")),
    "AM": (3.94, -3.12, -60.02, (69000, 69299), ("manaus", "parintins")),
    "AP": (0.73, 0.03, -51.07, (68900, 68999), ("macapa", "santana")),
    "BA": (14.14, -12.97, -38.50, (40000, 48999), ("salvador", "feira de santana", "vitoria da conquista")),
    "CE": (8.79, -3.73, -38.53, (60000, 63999), ("fortaleza", "caucaia", "juazeiro do norte")),
    "DF": (2.82, -15.79, -47.88, (70000, 72799), ("brasilia", "taguatinga")),
    "ES": (3.83, -20.32, -40.34, (29000, 29999), ("vitoria", "vila velha", "serra")),
    "GO": (7.06, -16.69, -49.26, (74000, 76799), ("goiania", "anapolis", "aparecida de goiania")),
    "MA": (6.78, -2.53, -44.30, (65000, 65999), ("sao luis", "imperatriz")),
    "MG": (20.54, -19.92, -43.94, (30000, 39999), ("belo horizonte", "uberlandia", "contagem", "juiz de fora")),
    "MS": (2.76, -20.44, -54.65, (79000, 79999), ("campo grande", "dourados")),
    "MT": (3.66, -15.60, -56.10, (78000, 78899), ("cuiaba", "varzea grande")),
    "PA": (8.12, -1.46, -48.50, (66000, 68899), ("belem", "ananindeua", "santarem")),
    "PB": (3.97, -7.12, -34.86, (58000, 58999), ("joao pessoa", "campina grande")),
    "PE": (9.06, -8.05, -34.88, (50000, 56999), ("recife", "jaboatao dos guararapes", "olinda")),
    "PI": (3.27, -5.09, -42.80, (64000, 64999), ("teresina", "parnaiba")),
    "PR": (11.44, -25.43, -49.27, (80000, 87999), ("curitiba", "londrina", "maringa")),
    "RJ": (16.05, -22.91, -43.17, (20000, 28999), ("rio de janeiro", "niteroi", "sao goncalo", "duque de caxias")),
    "RN": (3.30, -5.79, -35.21, (59000, 59999), ("natal", "mossoro")),
    "RO": (1.58, -8.76, -63.90, (76800, 76999), ("porto velho", "ji-parana")),
    "RR": (0.64, 2.82, -60.67, (69300, 69399), ("boa vista",)),
    "RS": (10.88, -30.03, -51.23, (90000, 99999), ("porto alegre", "caxias do sul", "pelotas")),
    "SC": (7.61, -27.59, -48.55, (88000, 89999), ("florianopolis", "joinville", "blumenau")),
    "SE": (2.21, -10.91, -37.07, (49000, 49999), ("aracaju", "nossa senhora do socorro")),
    "SP": (44.41, -23.55, -46.63, (1000, 19999), ("sao paulo", "campinas", "guarulhos", "santos", "sorocaba", "ribeirao preto")),
    "TO": (1.51, -10.18, -48.33, (77000, 77999), ("palmas", "araguaina")),
}  # fmt: skip
assert tuple(sorted(_STATES)) == BR_STATES

STATES: tuple[str, ...] = BR_STATES
STATE_INDEX = {s: i for i, s in enumerate(STATES)}
POPULATION = np.array([_STATES[s][0] for s in STATES])
LAT = np.array([_STATES[s][1] for s in STATES])
LNG = np.array([_STATES[s][2] for s in STATES])

# Online shopping is more common in the south-east and south than population alone says.
_ADOPTION = {"SP": 1.9, "RJ": 1.5, "MG": 1.2, "PR": 1.1, "SC": 1.1, "RS": 1.0, "DF": 1.4, "ES": 1.1}
CUSTOMER_STATE_WEIGHTS = POPULATION * np.array([_ADOPTION.get(s, 0.55) for s in STATES])
CUSTOMER_STATE_WEIGHTS = CUSTOMER_STATE_WEIGHTS / CUSTOMER_STATE_WEIGHTS.sum()
# Sellers cluster in SP, yet come from almost every state.
_SELLER_BIAS = {"SP": 14.0, "PR": 2.5, "MG": 2.0, "SC": 2.5, "RJ": 1.5, "RS": 1.5}
SELLER_STATE_WEIGHTS = POPULATION * np.array([_SELLER_BIAS.get(s, 0.3) for s in STATES])
SELLER_STATE_WEIGHTS = SELLER_STATE_WEIGHTS / SELLER_STATE_WEIGHTS.sum()


def _distance_matrix() -> np.ndarray:
    """Great-circle km between state capitals; within a state a nominal 150 km."""
    lat, lng = np.radians(LAT), np.radians(LNG)
    dlat = lat[:, None] - lat[None, :]
    dlng = lng[:, None] - lng[None, :]
    a = np.sin(dlat / 2) ** 2 + np.cos(lat[:, None]) * np.cos(lat[None, :]) * np.sin(dlng / 2) ** 2
    km = 2 * 6371.0 * np.arcsin(np.sqrt(a))
    np.fill_diagonal(km, 150.0)
    return km


DISTANCE_KM = _distance_matrix()

# Zip prefixes: per state a fixed set inside its CEP range, more for more populous states.
_ZIPS_PER_MILLION = 6


def _zip_universe():
    zips, zstate, zcity = [], [], []
    cities: list[str] = []
    start = np.zeros(len(STATES), dtype=np.int64)
    count = np.zeros(len(STATES), dtype=np.int64)
    for i, s in enumerate(STATES):
        pop, _, _, (lo, hi), names = _STATES[s]
        n = max(4, int(round(pop * _ZIPS_PER_MILLION)))
        start[i] = len(zips)
        count[i] = n
        step = (hi - lo) / n
        for j in range(n):
            zips.append(f"{int(lo + j * step + (j * 37) % max(1, int(step))):05d}")
            zstate.append(i)
            city = names[0] if j < n // 2 else names[j % len(names)]  # the capital holds half the zips
            if city not in cities:
                cities.append(city)
            zcity.append(cities.index(city))
    return np.array(zips), np.array(zstate), np.array(zcity), start, count, tuple(cities)


ZIP_CODES, ZIP_STATE, ZIP_CITY, STATE_ZIP_START, STATE_ZIP_COUNT, CITY_NAMES = _zip_universe()
assert len(set(ZIP_CODES.tolist())) == len(ZIP_CODES)

# Product categories: (Portuguese name, English name, share of products, median price BRL, price sigma, median weight g)
CATEGORIES: tuple[tuple[str, str, float, float, float, float], ...] = (
    ("cama_mesa_banho", "bed_bath_table", 0.10, 80, 0.6, 1500),
    ("beleza_saude", "health_beauty", 0.09, 90, 0.8, 600),
    ("esporte_lazer", "sports_leisure", 0.08, 90, 0.8, 1200),
    ("moveis_decoracao", "furniture_decor", 0.08, 110, 0.8, 3000),
    ("informatica_acessorios", "computers_accessories", 0.07, 120, 1.0, 700),
    ("utilidades_domesticas", "housewares", 0.07, 70, 0.8, 1500),
    ("relogios_presentes", "watches_gifts", 0.06, 170, 0.8, 400),
    ("telefonia", "telephony", 0.05, 60, 0.9, 250),
    ("ferramentas_jardim", "garden_tools", 0.04, 100, 0.8, 2500),
    ("automotivo", "auto", 0.04, 110, 0.9, 1500),
    ("brinquedos", "toys", 0.04, 90, 0.8, 1000),
    ("cool_stuff", "cool_stuff", 0.04, 150, 0.8, 2000),
    ("perfumaria", "perfumery", 0.03, 110, 0.7, 500),
    ("bebes", "baby", 0.03, 120, 0.8, 2500),
    ("eletronicos", "electronics", 0.025, 70, 1.0, 500),
    ("papelaria", "stationery", 0.02, 80, 0.8, 800),
    ("fashion_bolsas_e_acessorios", "fashion_bags_accessories", 0.02, 70, 0.7, 400),
    ("pet_shop", "pet_shop", 0.02, 90, 0.8, 2000),
    ("eletrodomesticos", "home_appliances", 0.015, 250, 0.9, 5000),
    ("livros_interesse_geral", "books_general_interest", 0.01, 60, 0.6, 600),
    ("instrumentos_musicais", "musical_instruments", 0.01, 280, 1.0, 3000),
    ("pcs", "computers", 0.005, 1100, 0.6, 8000),
)
CATEGORY_PT = np.array([c[0] for c in CATEGORIES])
CATEGORY_EN = np.array([c[1] for c in CATEGORIES])
CATEGORY_CDF = np.cumsum([c[2] for c in CATEGORIES]) / sum(c[2] for c in CATEGORIES)
CATEGORY_PRICE_MEDIAN = np.array([c[3] for c in CATEGORIES], dtype=float)
CATEGORY_PRICE_SIGMA = np.array([c[4] for c in CATEGORIES], dtype=float)
CATEGORY_WEIGHT_MEDIAN = np.array([c[5] for c in CATEGORIES], dtype=float)

# Invented review phrases by score (index 0 = score 1).
REVIEW_TITLES = ("pessimo", "nao recomendo", "regular", "bom", "otimo", "recomendo", "super recomendo")
REVIEW_TITLE_BY_SCORE = ((0, 1), (1, 2), (2, 3), (3, 5), (4, 5, 6))
REVIEW_MESSAGES = (
    "produto nao chegou",
    "veio com defeito e ninguem responde",
    "entrega atrasou muito",
    "produto diferente do anunciado",
    "chegou no prazo mas a qualidade e fraca",
    "razoavel pelo preco",
    "gostei, entrega dentro do prazo",
    "bom produto, recomendo",
    "chegou antes do prazo, muito bem embalado",
    "excelente, compraria de novo",
    "tudo certo, otimo vendedor",
)
REVIEW_MESSAGE_BY_SCORE = ((0, 1, 2, 3), (1, 2, 3, 4), (4, 5), (5, 6, 7), (7, 8, 9, 10))

# Purchases by hour of day (relative), an online shop's daily rhythm.
HOUR_WEIGHTS = np.array(
    [
        1.2,
        0.6,
        0.3,
        0.15,
        0.1,
        0.2,
        0.5,
        1.2,
        2.9,
        4.5,
        5.7,
        6.0,
        5.7,
        6.0,
        6.2,
        6.0,
        5.9,
        5.6,
        5.3,
        5.6,
        6.1,
        6.1,
        5.8,
        4.1,
    ]
)
HOUR_CDF = np.cumsum(HOUR_WEIGHTS) / HOUR_WEIGHTS.sum()
WEEKDAY_FACTOR = np.array([1.13, 1.12, 1.08, 1.04, 0.98, 0.78, 0.87])  # Monday..Sunday, mean 1
MONTH_FACTOR = np.array([0.95, 0.90, 1.00, 0.98, 1.05, 0.97, 1.00, 1.05, 0.92, 0.98, 1.15, 0.95])
BLACK_FRIDAY_FACTOR = 4.0
# Days around Black Friday (offset in days -> factor): the Thursday before, the weekend, Cyber Monday.
BLACK_FRIDAY_AROUND = {-1: 1.3, 1: 1.8, 2: 1.5, 3: 1.7}


def reference_tables():
    """(category translation rows, geolocation rows) as dicts of numpy arrays; fixed content."""
    cats = {"product_category_name": CATEGORY_PT, "product_category_name_english": CATEGORY_EN}
    rng = np.random.default_rng(20160101)  # fixed: reference data never depends on the run's seed
    per_zip = 1 + rng.integers(0, 3, len(ZIP_CODES))
    zi = np.repeat(np.arange(len(ZIP_CODES)), per_zip)
    st = ZIP_STATE[zi]
    lat = np.round(LAT[st] + (rng.random(len(zi)) - 0.5) * 1.2, 6)
    lng = np.round(LNG[st] + (rng.random(len(zi)) - 0.5) * 1.2, 6)
    geo = {
        "geolocation_zip_code_prefix": ZIP_CODES[zi],
        "geolocation_lat": np.clip(lat, -90, 90),
        "geolocation_lng": np.clip(lng, -180, 180),
        "geolocation_city": np.array(CITY_NAMES)[ZIP_CITY[zi]],
        "geolocation_state": np.array(STATES)[st],
    }
    return cats, geo
