# Dynamic test program: Debian's python3 with threads, json, hashlib, re and sqlite3.
import hashlib
import json
import re
import sqlite3
import threading

out = []
lock = threading.Lock()


def work(i):
    with lock:
        out.append(i * i)


threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
db = sqlite3.connect(":memory:")
db.execute("create table t (a integer, b text)")
db.executemany("insert into t values (?, ?)", [(i, str(i)) for i in range(100)])
print(json.dumps(sorted(out)))
print(hashlib.sha256(b"mote").hexdigest())
print(re.findall(r"\d+", "a1b22c333"))
print(db.execute("select sum(a), count(*) from t").fetchone())
