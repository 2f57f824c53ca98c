-- An exposure's lifecycle state and since when.
SELECT lifecycle, lifecycle_at FROM exposures WHERE id = $1
