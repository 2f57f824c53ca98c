-- Hold exposure $1 until commit (its key only: other writers may still update it), so that a
-- purge cannot delete it under rows about to name it. No row: it is gone.
SELECT 1 FROM exposures WHERE id = $1 FOR KEY SHARE
