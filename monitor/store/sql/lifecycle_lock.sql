-- An exposure's lifecycle state, locked for the rest of the transaction (one decision at a time).
SELECT lifecycle FROM exposures WHERE id = $1 FOR UPDATE
