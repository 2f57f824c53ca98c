-- The published line start nearest at or before a byte of a file, with the lines before it.
SELECT at_byte, lines
FROM line_marks
WHERE identity = $1 AND at_byte <= $2
ORDER BY at_byte DESC
LIMIT 1
