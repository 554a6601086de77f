"""Write the synthetic public exports of this folder again: `python tests/corpus/real/generate.py`.

boston311.csv and nyc311.csv are shaped after the real public files (see README.md):
the same headers in the same order, the same value formats and codes, and the
quirks people meet in them (a pandas index column, a ZIP code read as a float,
closed-before-opened rows). The rows are made up, from a fixed seed, so the files
are the same bytes every time. observations.csv holds what an inspector noted for
the indicators the exports cannot feed. The tests never call this module: they read
the committed files and count by hand (tests/test_real_exports.py).
"""

from __future__ import annotations

import csv
import random
import struct
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent

# -- Boston 311 ("311 Service Requests", data.boston.gov, the 2023 resource) ---------------------------------------

BOSTON_HEADER = [
    "case_enquiry_id",
    "open_dt",
    "sla_target_dt",
    "closed_dt",
    "on_time",
    "case_status",
    "closure_reason",
    "case_title",
    "subject",
    "reason",
    "type",
    "queue",
    "department",
    "submittedphoto",
    "closedphoto",
    "location",
    "fire_district",
    "pwd_district",
    "city_council_district",
    "police_district",
    "neighborhood",
    "neighborhood_services_district",
    "ward",
    "precinct",
    "location_street_name",
    "location_zipcode",
    "latitude",
    "longitude",
    "geom_4326",
    "source",
]

# (case_title/type, subject, reason, queue, closure text, SLA hours or None)
BOSTON_TYPES: dict[str, list[tuple[str, str, str, str, str, int | None]]] = {
    "PWDx": [
        (
            "Request for Pothole Repair",
            "Public Works Department",
            "Highway Maintenance",
            "PWDx_District 1C: Downtown",
            "Case Resolved. Pothole repaired.",
            48,
        ),
        (
            "Street Light Outages",
            "Public Works Department",
            "Street Lights",
            "PWDx_Street Light Outages",
            "Case Resolved. Light repaired.",
            120,
        ),
        (
            "Requests for Street Cleaning",
            "Public Works Department",
            "Street Cleaning",
            "PWDx_District 10B: Roxbury",
            "Case Resolved. Area cleaned.",
            24,
        ),
        (
            "Missed Trash/Recycling/Yard Waste/Bulk Item",
            "Public Works Department",
            "Sanitation",
            "PWDx_Missed Trash\\, Recycling\\, Yard Waste\\, Bulk Item",
            "Case Resolved. Hauler notified; pickup completed.",
            24,
        ),
    ],
    "BTDT": [
        (
            "Parking Enforcement",
            "Transportation - Traffic Division",
            "Enforcement & Abandoned Vehicles",
            "BTDT_Parking Enforcement",
            "Case Resolved. Ticket issued.",
            8,
        ),
        (
            "Abandoned Vehicles",
            "Transportation - Traffic Division",
            "Enforcement & Abandoned Vehicles",
            "BTDT_AVRS Interface Queue",
            "Case Noted. Vehicle tagged; tow scheduled.",
            72,
        ),
        (
            "Traffic Signal Repair",
            "Transportation - Traffic Division",
            "Signs & Signals",
            "BTDT_Traffic Signal Repair",
            "Case Resolved. Signal timing restored.",
            48,
        ),
    ],
    "INFO": [
        (
            "General Comments For a Program or Policy",
            "Mayor's 24 Hour Hotline",
            "Employee & General Comments",
            "INFO01_GenericeFormforOtherServiceRequestTypes",
            "Case Noted. Comment forwarded to the program.",
            None,
        ),
        (
            "Needle Pickup",
            "Mayor's 24 Hour Hotline",
            "Needle Program",
            "INFO_Needle Program",
            "Case Resolved. Needles collected.",
            24,
        ),
    ],
}

# (neighborhood, pwd_district, council, police, fire, nsd, ward, zip, street, lat, lon)
BOSTON_PLACES = [
    ("Downtown / Financial District", "1C", "2", "A1", "3", "3", "3", "02108", "Tremont St", 42.3571, -71.0627),
    ("Back Bay", "1C", "8", "D4", "4", "14", "5", "02116", "Newbury St", 42.3503, -71.0810),
    ("South End", "1C", "2", "D4", "4", "6", "9", "02118", "Washington St", 42.3396, -71.0722),
    ("Dorchester", "3", "3", "C11", "8", "7", "16", "02122", "Dorchester Ave", 42.2956, -71.0586),
    ("Roxbury", "10B", "7", "B2", "9", "13", "12", "02119", "Blue Hill Ave", 42.3152, -71.0857),
    ("Jamaica Plain", "02", "6", "E13", "9", "11", "19", "02130", "Centre St", 42.3097, -71.1151),
    ("East Boston", "09", "1", "A7", "1", "1", "1", "02128", "Meridian St", 42.3751, -71.0389),
    ("Allston / Brighton", "04", "9", "D14", "11", "15", "22", "02135", "Commonwealth Ave", 42.3496, -71.1413),
]
BOSTON_SOURCES = ["Constituent Call", "Citizens Connect App", "City Worker App", "Self Service", "Employee Generated"]
NOW_BOSTON = datetime(2023, 5, 5, 9, 0, 0)  # when the export was taken: open cases are measured against it


def _boston_ok(moment: datetime) -> bool:
    """Not in the hour New York's clocks skipped on 2023-03-12 (a real export cannot hold one)."""
    return not (moment.date() == date(2023, 3, 12) and moment.hour == 2)


def _wkb_point(lon: float, lat: float) -> str:
    """The geom_4326 column: an EWKB point with SRID 4326, as PostGIS writes it in hex."""
    return ("0101000020E6100000" + struct.pack("<dd", lon, lat).hex()).upper()


def boston_rows(rng: random.Random) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    case_id = 101004800000

    def add(department: str, opened: datetime, closed: datetime | None, kind: int | None = None) -> None:
        nonlocal case_id
        case_id += rng.randint(3, 400)
        kinds = BOSTON_TYPES[department]
        title, subject, reason, queue, closure, sla = kinds[rng.randrange(len(kinds)) if kind is None else kind]
        target = opened + timedelta(hours=sla) if sla is not None else None
        if target is not None and not _boston_ok(target):
            target += timedelta(hours=1)
        reference = closed or NOW_BOSTON
        on_time = "ONTIME" if target is None or reference <= target else "OVERDUE"
        place = BOSTON_PLACES[rng.randrange(len(BOSTON_PLACES))]
        hood, pwd, council, police, fire, nsd, ward, zipcode, street, lat0, lon0 = place
        number = rng.randint(1, 400)
        intersection = rng.random() < 0.25
        if rng.random() < 0.06:  # no location given: the export's default point at City Hall
            location, lat, lon, street_name, zip_value = "", 42.3594, -71.0587, "", None
        else:
            lat, lon = round(lat0 + rng.uniform(-0.006, 0.006), 5), round(lon0 + rng.uniform(-0.006, 0.006), 5)
            if intersection:
                location = f"INTERSECTION of {street} & Main St  Boston  MA"
                street_name = ""
            else:
                location = f"{number} {street}  Boston  MA  {zipcode}"
                street_name = f"{number} {street}"
            zip_value = float(zipcode)  # read back as a number with blanks beside it: 2116.0 (a real pandas quirk)
        source = BOSTON_SOURCES[rng.randrange(len(BOSTON_SOURCES))]
        photo = (
            f"https://spot-boston-res.cloudinary.com/image/upload/v{int(opened.timestamp())}/boston/production/{rng.getrandbits(40):010x}.jpg"
            if source == "Citizens Connect App" and rng.random() < 0.7
            else None
        )
        rows.append(
            {
                "case_enquiry_id": case_id,
                "open_dt": f"{opened:%Y-%m-%d %H:%M:%S}",
                "sla_target_dt": None if target is None else f"{target:%Y-%m-%d %H:%M:%S}",
                "closed_dt": None if closed is None else f"{closed:%Y-%m-%d %H:%M:%S}",
                "on_time": on_time,
                "case_status": "Open" if closed is None else "Closed",
                "closure_reason": None if closed is None else f"Case Closed. {closure} ",
                "case_title": title,
                "subject": subject,
                "reason": reason,
                "type": title,
                "queue": queue,
                "department": department,
                "submittedphoto": photo,
                "closedphoto": None,
                "location": location or None,
                "fire_district": fire,
                "pwd_district": pwd,
                "city_council_district": council,
                "police_district": police,
                "neighborhood": hood,
                "neighborhood_services_district": nsd,
                "ward": f"Ward {ward}",
                "precinct": f"{int(ward):02d}{rng.randint(1, 12):02d}",
                "location_street_name": street_name or None,
                "location_zipcode": zip_value,
                "latitude": lat,
                "longitude": lon,
                "geom_4326": _wkb_point(lon, lat),
                "source": source,
            }
        )

    start, end = datetime(2023, 2, 25), datetime(2023, 5, 3)
    span = int((end - start).total_seconds())
    for department, count in (("PWDx", 150), ("BTDT", 80), ("INFO", 60)):
        for _ in range(count):
            opened = start + timedelta(seconds=rng.randrange(span))
            while not _boston_ok(opened):
                opened = start + timedelta(seconds=rng.randrange(span))
            draw = rng.random()
            if draw < 0.1:
                closed = None
            elif draw < 0.4:
                closed = opened + timedelta(seconds=rng.randint(120, 10 * 3600))
            elif draw < 0.8:
                closed = opened + timedelta(seconds=rng.randint(10 * 3600, 50 * 3600))
            else:
                closed = opened + timedelta(seconds=rng.randint(2 * 86400, 10 * 86400))
            if closed is not None and (not _boston_ok(closed) or closed > NOW_BOSTON):
                closed = None if closed > NOW_BOSTON else closed + timedelta(hours=1)
            add(department, opened, closed)
    # Across the spring-forward night (2023-03-12 02:00 → 03:00): wall-clock spans of 23–25 h are 22–24 real hours.
    for opened, closed in (
        ("2023-03-11 09:00:00", "2023-03-12 10:00:00"),  # 25 h on the wall, 24 h real: within 24h
        ("2023-03-11 14:20:00", "2023-03-12 14:50:00"),  # 24.5 h wall, 23.5 h real: within 24h
        ("2023-03-11 18:05:41", "2023-03-12 18:40:02"),  # within 24h real
        ("2023-03-11 22:10:00", "2023-03-12 23:20:00"),  # 25 h 10 min wall, 24 h 10 min real: late
        ("2023-03-11 23:30:00", "2023-03-12 12:00:00"),  # 11.5 h real
        ("2023-03-12 01:59:00", "2023-03-13 02:10:00"),  # 24 h 11 min wall, 23 h 11 min real
        ("2023-03-12 03:00:00", "2023-03-13 03:00:01"),  # after the change: 24 h 1 s, late
    ):
        add("PWDx", datetime.fromisoformat(opened), datetime.fromisoformat(closed), kind=2)
    add("BTDT", datetime(2023, 3, 11, 20, 0, 0), datetime(2023, 3, 12, 20, 45, 0), kind=0)
    # Around Patriots' Day (Monday 2023-04-17, a Massachusetts holiday): 2 working days later is the 18th or 19th.
    for department, opened, closed in (
        ("PWDx", "2023-04-13 08:15:00", "2023-04-18 16:30:00"),  # Thu: Fri 14, Tue 18 → due end of the 18th
        ("PWDx", "2023-04-14 11:00:00", "2023-04-19 23:59:59"),  # Fri: Tue 18, Wed 19 → on time
        ("PWDx", "2023-04-14 11:30:00", "2023-04-20 00:00:00"),  # one second after the deadline
        ("PWDx", "2023-04-16 10:00:00", "2023-04-19 09:00:00"),  # Sun: Tue 18, Wed 19 → on time
        ("PWDx", "2023-04-17 07:45:00", "2023-04-19 17:00:00"),  # on the holiday: Tue 18, Wed 19 → on time
        ("BTDT", "2023-04-13 09:00:00", "2023-04-18 12:00:00"),
        ("INFO", "2023-04-14 13:00:00", "2023-04-19 08:00:00"),
    ):
        add(
            department,
            datetime.fromisoformat(opened),
            datetime.fromisoformat(closed),
            kind=0 if department != "INFO" else 1,
        )
    # The edges of the months, local calendar days.
    for department, opened, closed in (
        ("PWDx", "2023-02-28 23:59:59", "2023-03-01 08:00:00"),
        ("PWDx", "2023-03-01 00:00:00", "2023-03-01 07:00:00"),
        ("PWDx", "2023-03-31 23:59:59", None),
        ("PWDx", "2023-04-01 00:00:00", "2023-04-03 06:00:00"),
        ("PWDx", "2023-04-30 23:58:00", "2023-05-01 09:00:00"),
        ("BTDT", "2023-03-31 23:50:00", "2023-04-01 00:20:00"),
        ("INFO", "2023-04-01 00:05:00", None),
    ):
        add(department, datetime.fromisoformat(opened), None if closed is None else datetime.fromisoformat(closed))
    rows.sort(key=lambda r: str(r["open_dt"]))
    return rows


def write_boston(rng: random.Random) -> Path:
    """As the real file is found re-saved: read with pandas and written back with `to_csv()`, index and all."""
    frame = pd.DataFrame(boston_rows(rng), columns=BOSTON_HEADER)
    path = HERE / "boston311.csv"
    frame.to_csv(path)
    return path


# -- NYC 311 ("311 Service Requests from 2010 to Present", NYC Open Data) -------------------------------------------

NYC_HEADER = [
    "Unique Key",
    "Created Date",
    "Closed Date",
    "Agency",
    "Agency Name",
    "Complaint Type",
    "Descriptor",
    "Location Type",
    "Incident Zip",
    "Incident Address",
    "Street Name",
    "Cross Street 1",
    "Cross Street 2",
    "Intersection Street 1",
    "Intersection Street 2",
    "Address Type",
    "City",
    "Landmark",
    "Facility Type",
    "Status",
    "Due Date",
    "Resolution Description",
    "Resolution Action Updated Date",
    "Community Board",
    "BBL",
    "Borough",
    "X Coordinate (State Plane)",
    "Y Coordinate (State Plane)",
    "Open Data Channel Type",
    "Park Facility Name",
    "Park Borough",
    "Vehicle Type",
    "Taxi Company Borough",
    "Taxi Pick Up Location",
    "Bridge Highway Name",
    "Bridge Highway Direction",
    "Road Ramp",
    "Bridge Highway Segment",
    "Latitude",
    "Longitude",
    "Location",
]
NYC_FORMAT = "%m/%d/%Y %I:%M:%S %p"
NYC_AGENCIES = {
    "DOT": "Department of Transportation",
    "NYPD": "New York City Police Department",
    "DSNY": "Department of Sanitation",
    "HPD": "Department of Housing Preservation and Development",
    "DEP": "Department of Environmental Protection",
}
# agency → (complaint type, descriptor, location type, resolution)
NYC_TYPES: dict[str, list[tuple[str, str, str, str]]] = {
    "DOT": [
        (
            "Street Condition",
            "Pothole",
            "",
            "The Department of Transportation inspected this complaint and repaired the problem.",
        ),
        (
            "Street Light Condition",
            "Street Light Out",
            "",
            "The Department of Transportation has completed the request or corrected the condition.",
        ),
        (
            "Traffic Signal Condition",
            "Controller",
            "",
            "Service Request status for this request is available on the Department of Transportation’s website. Please visit https://www.nyc.gov/dot for more information.",
        ),
        (
            "Sidewalk Condition",
            "Broken Sidewalk",
            "Sidewalk",
            "The Department of Transportation inspected this complaint and found the condition to be ok.",
        ),
    ],
    "NYPD": [
        (
            "Noise - Residential",
            "Loud Music/Party",
            "Residential Building/House",
            "The Police Department responded to the complaint and with the information available observed no evidence of the violation at that time.",
        ),
        (
            "Illegal Parking",
            "Blocked Hydrant",
            "Street/Sidewalk",
            "The Police Department issued a summons in response to the complaint.",
        ),
        (
            "Blocked Driveway",
            "No Access",
            "Street/Sidewalk",
            "The Police Department responded and upon arrival those responsible for the condition were gone.",
        ),
    ],
    "DSNY": [
        (
            "Dirty Condition",
            "Trash",
            "Sidewalk",
            "The Department of Sanitation investigated this complaint and found no violation at the location.",
        ),
        (
            "Missed Collection",
            "Trash",
            "Residential Building",
            "The Department of Sanitation collected the requested items.",
        ),
    ],
    "HPD": [
        (
            "HEAT/HOT WATER",
            "ENTIRE BUILDING",
            "RESIDENTIAL BUILDING",
            "The Department of Housing Preservation and Development contacted a tenant in the building and verified that the heat was restored.",
        ),
        (
            "PLUMBING",
            "WATER-LEAKS",
            "RESIDENTIAL BUILDING",
            "The complaint you filed is a duplicate of a condition already reported by another tenant for a building-wide condition.",
        ),
    ],
    "DEP": [
        (
            "Water System",
            "Hydrant Running (WC3)",
            "",
            "The Department of Environmental Protection inspected the hydrant and shut it off.",
        ),
        (
            "Noise",
            "Noise: Construction Before/After Hours (NM1)",
            "",
            "The Department of Environmental Protection investigated this complaint and shut the running hydrant.",
        ),
    ],
}
# (borough, city, zip, community board, street, cross 1, cross 2, lat, lon, x, y, boro digit)
NYC_PLACES = [
    (
        "BROOKLYN",
        "BROOKLYN",
        "11201",
        "02 BROOKLYN",
        "COURT STREET",
        "STATE STREET",
        "SCHERMERHORN STREET",
        40.6906,
        -73.9921,
        986423,
        191262,
        3,
    ),
    (
        "BROOKLYN",
        "BROOKLYN",
        "11215",
        "06 BROOKLYN",
        "7 AVENUE",
        "1 STREET",
        "2 STREET",
        40.6723,
        -73.9772,
        990579,
        184589,
        3,
    ),
    (
        "QUEENS",
        "JAMAICA",
        "11432",
        "12 QUEENS",
        "HILLSIDE AVENUE",
        "168 STREET",
        "169 STREET",
        40.7101,
        -73.7935,
        1041398,
        198519,
        4,
    ),
    (
        "QUEENS",
        "ASTORIA",
        "11103",
        "01 QUEENS",
        "STEINWAY STREET",
        "31 AVENUE",
        "BROADWAY",
        40.7612,
        -73.9158,
        1007488,
        217050,
        4,
    ),
    (
        "MANHATTAN",
        "NEW YORK",
        "10027",
        "10 MANHATTAN",
        "WEST 125 STREET",
        "LENOX AVENUE",
        "7 AVENUE",
        40.8090,
        -73.9480,
        998552,
        234475,
        1,
    ),
    (
        "MANHATTAN",
        "NEW YORK",
        "10003",
        "03 MANHATTAN",
        "EAST 14 STREET",
        "1 AVENUE",
        "2 AVENUE",
        40.7317,
        -73.9848,
        988379,
        206297,
        1,
    ),
    (
        "BRONX",
        "BRONX",
        "10458",
        "07 BRONX",
        "GRAND CONCOURSE",
        "EAST FORDHAM ROAD",
        "EAST 190 STREET",
        40.8618,
        -73.8972,
        1012580,
        253715,
        2,
    ),
    (
        "STATEN ISLAND",
        "STATEN ISLAND",
        "10301",
        "01 STATEN ISLAND",
        "VICTORY BOULEVARD",
        "BAY STREET",
        "CENTRAL AVENUE",
        40.6376,
        -74.0776,
        962658,
        171994,
        5,
    ),
]
NYC_CHANNELS = ["PHONE", "ONLINE", "MOBILE", "UNKNOWN"]
NOW_NYC = datetime(2023, 8, 31, 23, 0, 0)


def _nyc(moment: datetime | None) -> str:
    return "" if moment is None else moment.strftime(NYC_FORMAT)


def nyc_rows(rng: random.Random) -> list[list[str]]:
    rows: list[list[str]] = []
    keys: set[int] = set()

    def key_for(moment: datetime) -> int:
        # Unique Key grows with time: about 57.3 million at 2023-04-01, ~9,000 a day.
        base = 57_300_000 + int((moment - datetime(2023, 4, 1)).total_seconds() / 86400 * 9000)
        key = base + rng.randint(0, 8999)
        while key in keys:
            key += 1
        keys.add(key)
        return key

    def add(
        agency: str,
        created: datetime,
        closed: datetime | None,
        updated: datetime | None,
        status: str | None = None,
        kind: int | None = None,
    ) -> None:
        kinds = NYC_TYPES[agency]
        complaint, descriptor, location_type, resolution = kinds[rng.randrange(len(kinds)) if kind is None else kind]
        borough, city, zipcode, board, street, cross1, cross2, lat0, lon0, x0, y0, boro = NYC_PLACES[
            rng.randrange(len(NYC_PLACES))
        ]
        intersection = rng.random() < 0.3
        number = rng.randint(1, 2400)
        lat, lon = lat0 + rng.uniform(-0.004, 0.004), lon0 + rng.uniform(-0.004, 0.004)
        x, y = x0 + round((lon - lon0) * 277_000), y0 + round((lat - lat0) * 364_000)
        status = status or (
            "Closed" if closed is not None else rng.choice(["Open", "In Progress", "Assigned", "Pending"])
        )
        due = created + timedelta(days=30) if agency in ("DOT", "DEP") and rng.random() < 0.5 else None
        rows.append(
            [
                str(key_for(created)),
                _nyc(created),
                _nyc(closed),
                agency,
                NYC_AGENCIES[agency],
                complaint,
                descriptor,
                location_type,
                zipcode,
                "" if intersection else f"{number} {street}",
                "" if intersection else street,
                cross1,
                cross2,
                street if intersection else "",
                cross1 if intersection else "",
                "INTERSECTION" if intersection else "ADDRESS",
                city,
                "",
                "N/A" if agency in ("DSNY", "NYPD") else "",
                status,
                _nyc(due),
                resolution if updated is not None else "",
                _nyc(updated),
                board,
                "" if intersection else f"{boro}{rng.randint(1, 16000):05d}{rng.randint(1, 120):04d}",
                borough,
                str(x),
                str(y),
                rng.choice(NYC_CHANNELS),
                "Unspecified",
                borough,
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                repr(lat),
                repr(lon),
                f"({lat!r}, {lon!r})",
            ]
        )

    def midnight_or_time(day: datetime, agency: str) -> datetime:
        """DOT and HPD often record a request at midnight exactly (12:00:00 AM)."""
        if agency in ("DOT", "HPD") and rng.random() < 0.2:
            return day
        return day + timedelta(seconds=rng.randrange(86400))

    start = datetime(2023, 4, 1)
    for agency, count in (("DOT", 110), ("NYPD", 25), ("DSNY", 20), ("HPD", 15), ("DEP", 15)):
        for _ in range(count):
            created = midnight_or_time(start + timedelta(days=rng.randrange(122)), agency)  # April to July
            draw = rng.random()
            if draw < 0.12:
                closed, updated = None, (None if rng.random() < 0.5 else created + timedelta(hours=rng.randint(2, 60)))
            else:
                hours = rng.choice([rng.uniform(0.2, 12), rng.uniform(12, 80), rng.uniform(80, 260)])
                closed = created + timedelta(seconds=round(hours * 3600))
                updated = closed - timedelta(seconds=rng.choice([0, 0, 0, rng.randint(60, 36 * 3600)]))
                updated = max(updated, created)
            if closed is not None and closed > NOW_NYC:
                closed = None
            if updated is not None and updated > NOW_NYC:
                updated = None
            add(agency, created, closed, updated)
    t = datetime.fromisoformat
    # Juneteenth (Monday 2023-06-19) and Independence Day (Tuesday 2023-07-04) on the New York State calendar;
    # Memorial Day (2023-05-29) for the quarter.
    for created, closed, updated in (
        ("2023-06-15 10:12:00", "2023-06-21 09:30:00", "2023-06-20 16:00:00"),  # Thu +2wd → Tue 20
        ("2023-06-16 12:30:00", "2023-06-23 23:59:59", "2023-06-21 23:59:59"),  # Fri +2wd → Wed 21, +5wd → Fri 23
        ("2023-06-16 12:00:00", "2023-06-24 00:00:00", "2023-06-22 00:00:00"),  # a second late for both
        ("2023-06-18 00:00:00", "2023-06-26 08:00:00", "2023-06-21 14:00:00"),  # Sun: +2wd Wed 21, +5wd Mon 26
        ("2023-06-19 09:00:00", "2023-06-26 18:00:00", "2023-06-21 18:00:00"),  # on the holiday itself
        ("2023-06-28 08:00:00", "2023-07-06 22:00:00", "2023-06-30 11:00:00"),  # Wed +5wd → Thu Jul 6
        ("2023-06-29 13:00:00", "2023-07-07 12:00:00", "2023-07-03 12:15:00"),  # Thu +2wd Mon Jul 3, +5wd Fri Jul 7
        ("2023-06-30 23:59:59", "2023-07-10 07:00:00", "2023-07-05 12:00:00"),  # Fri +5wd → Mon Jul 10
        ("2023-07-03 12:00:00", "2023-07-07 16:00:00", "2023-07-05 23:00:00"),  # Mon +2wd → Wed Jul 5
        ("2023-07-01 00:00:00", "2023-07-07 00:30:00", "2023-07-05 12:45:00"),  # Sat: +2wd Jul 5, +5wd Jul 10
        ("2023-05-25 00:00:00", "2023-06-01 12:00:00", "2023-05-30 12:00:00"),  # Thu +2wd → Tue May 30 (Memorial Day)
        ("2023-05-26 16:00:00", "2023-06-02 20:00:00", "2023-05-31 12:00:00"),  # Fri +5wd → Fri Jun 2
        ("2023-05-31 23:59:59", "2023-06-02 12:00:00", "2023-06-02 12:00:00"),  # May, not June
        ("2023-06-01 00:00:00", "2023-06-01 12:30:00", "2023-06-01 12:00:00"),  # noon is 12 PM, midnight 12 AM
    ):
        add("DOT", t(created), t(closed), t(updated), kind=0)
    # Rows of other months as real samples hold them: closed (and updated) before they were created.
    for created, closed in (
        ("2022-11-03 09:14:00", "2022-11-02 00:00:00"),
        ("2022-11-17 12:00:00", "2022-11-16 12:00:00"),
        ("2022-11-28 00:00:00", "2021-07-06 00:00:00"),
        ("2023-08-02 15:40:00", "2023-08-01 09:00:00"),
        ("2023-08-09 00:00:00", "2023-08-08 23:59:00"),
        ("2023-08-21 07:30:00", "2023-06-05 12:00:00"),
    ):
        add("DOT", t(created), t(closed), t(closed), status="Closed", kind=rng.randrange(4))
    add("DSNY", t("2022-11-10 08:00:00"), t("2022-11-09 08:00:00"), t("2022-11-09 08:00:00"), status="Closed")
    rows.sort(key=lambda r: (datetime.strptime(r[1], NYC_FORMAT), r[0]))
    return rows


def write_nyc(rng: random.Random) -> Path:
    path = HERE / "nyc311.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(NYC_HEADER)
        writer.writerows(nyc_rows(rng))
    return path


# -- What an inspector noted for the indicators no 311 export can feed ---------------------------------------------

OBSERVED = {
    "bos-pwd": ("CS01", "CS02", "CS03", "CS06", "CS08", "CS09", "CS10", "CS11", "CS12"),
    "bos-btd": ("CS01", "CS02", "CS03", "CS06", "CS08", "CS09", "CS10", "CS11", "CS12"),
    "bos-info": ("CS01", "CS02", "CS03", "CS06", "CS08", "CS09", "CS10", "CS11", "CS12"),
    "nyc-dot": ("CS01", "CS02", "CS03", "CS06", "CS07", "CS08", "CS09", "CS10", "CS11", "CS12"),
}
PERIODS = {
    "bos-pwd": ("2023-03", "2023-04"),
    "bos-btd": ("2023-03", "2023-04"),
    "bos-info": ("2023-03", "2023-04"),
    "nyc-dot": ("2023-Q2", "2023-06", "2023-07"),
}
LAST_DAY = {
    "2023-03": "2023-03-31",
    "2023-04": "2023-04-28",
    "2023-Q2": "2023-06-30",
    "2023-06": "2023-06-30",
    "2023-07": "2023-07-31",
}


def write_observations(rng: random.Random) -> Path:
    path = HERE / "observations.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["indicator", "department", "period", "value", "collector", "collected_on", "source", "note"])
        for department, indicators in OBSERVED.items():
            for period in PERIODS[department]:
                for indicator in indicators:
                    if indicator == "CS01":
                        value = str(rng.randint(0, 2))
                    elif indicator in ("CS08", "CS11"):
                        value = f"{rng.randint(0, 600) / 100:.2f}"
                    else:
                        value = f"{rng.randint(8000, 10000) / 100:.2f}"
                    writer.writerow(
                        [indicator, department, period, value, "M. Alvarez", LAST_DAY[period], "supervisor's log", ""]
                    )
    return path


def main() -> None:
    rng = random.Random(311)
    write_boston(rng)
    write_nyc(rng)
    write_observations(rng)


if __name__ == "__main__":
    main()
