-- A user's court division: a juvenile-division clerk may see juvenile
-- orders (WIC 827), other clerks may not.
ALTER TABLE users ADD COLUMN division text NOT NULL DEFAULT '';
