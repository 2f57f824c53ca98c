-- Note the line count at a line start of a file (the first note of a point stands).
INSERT INTO line_marks (identity, at_byte, lines)
VALUES ($1, $2, $3)
ON CONFLICT (identity, at_byte) DO NOTHING
