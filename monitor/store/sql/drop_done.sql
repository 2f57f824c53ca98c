-- A dropped file was read to the end: its attempts are forgotten (the source row says done).
DELETE FROM drop_files WHERE identity = $1
