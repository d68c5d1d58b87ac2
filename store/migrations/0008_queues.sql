-- The clerks' work queues (store/queue.go) look for orders of a county in
-- effect by expiry or issue date; without these, a county's queue read
-- every order it ever issued.
CREATE INDEX orders_county_expiry ON orders (county, expires_at) WHERE terminated_on IS NULL;
CREATE INDEX orders_county_issued ON orders (county, issued_on) WHERE terminated_on IS NULL;
