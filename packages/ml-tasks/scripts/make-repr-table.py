#!/usr/bin/python3
"""Write test/keys/python-repr-table.json: CPython's repr(float) for random doubles and for
every magnitude, the table python-float.test.ts checks pythonFloatString against.
Documented, not run by CI: /usr/bin/python3 packages/ml-tasks/scripts/make-repr-table.py
"""

import json
import os
import random
import struct

OUT = os.path.join(os.path.dirname(__file__), "..", "test", "keys", "python-repr-table.json")


def main() -> None:
    random.seed(5)
    values = []
    while len(values) < 400:
        value = struct.unpack("<d", struct.pack("<Q", random.getrandbits(64)))[0]
        if value == value and abs(value) != float("inf"):
            values.append(repr(value))
    for exponent in range(-323, 309, 7):
        for mantissa in (1.0, 1.5, 9.999999, 3.3333333333333335):
            value = mantissa * 10.0**exponent
            if abs(value) != float("inf"):
                values.append(repr(value))
    note = "repr(float) by CPython, written by scripts/make-repr-table.py"
    with open(OUT, "w") as handle:
        json.dump({"note": note, "values": values}, handle, indent=0)
        handle.write("\n")


if __name__ == "__main__":
    main()
