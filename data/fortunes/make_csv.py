"""Makes data/fortunes/fortunes.csv from the Debian package `fortunes` (1:1.99.1-7.3).
Usage: apt-get download fortunes && dpkg-deb -x fortunes_*.deb x &&
       python3 data/fortunes/make_csv.py x/usr/share/games/fortunes"""
import csv
import re
import sys

src = sys.argv[1]
rows = []
for cat in ["computers", "science", "politics", "food", "sports"]:
    with open(f"{src}/{cat}", encoding="utf-8") as f:
        for fortune in f.read().split("\n%\n"):
            text = re.sub(r"\s+", " ", fortune.strip("%\n ")).strip()
            if text:
                rows.append((cat, text))
with open("data/fortunes/fortunes.csv", "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f)
    w.writerow(["category", "text"])
    w.writerows(rows)
print(len(rows), "rows")
