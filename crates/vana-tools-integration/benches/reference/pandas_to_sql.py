"""The baseline of benches/sync.rs: pandas reads the CSV and writes it with
DataFrame.to_sql(method="multi") into an existing PostgreSQL table. Prints the seconds taken
(read + write, imports excluded) as `SECONDS <s>`."""
import sys
import time

import pandas as pd
import sqlalchemy

url, table, csv_path = sys.argv[1], sys.argv[2], sys.argv[3]
engine = sqlalchemy.create_engine(url.replace("postgres://", "postgresql+psycopg2://", 1))
start = time.perf_counter()
frame = pd.read_csv(csv_path)
# 4 columns x 10000 rows = 40000 parameters per INSERT, under PostgreSQL's 65535.
frame.to_sql(table, engine, if_exists="append", index=False, method="multi", chunksize=10000)
print(f"SECONDS {time.perf_counter() - start:.3f}")
