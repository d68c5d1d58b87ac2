-- documents are the scanned pages that go with an order: the signed order,
-- later proof of service or modifications. The bytes are the record, kept
-- here with the order (documents_chunks) rather than on a file system, so a
-- backup of the database is a backup of the registry.
CREATE TABLE documents (
	id          uuid PRIMARY KEY,
	order_id    uuid NOT NULL REFERENCES orders (id),
	kind        text NOT NULL,
	media_type  text NOT NULL,
	filename    text NOT NULL DEFAULT '',
	size        bigint NOT NULL CHECK (size > 0),
	sha256      bytea NOT NULL,
	pages       integer NOT NULL CHECK (pages > 0),
	width       integer NOT NULL DEFAULT 0,
	height      integer NOT NULL DEFAULT 0,
	-- redacted marks a copy with confidential details blacked out, which
	-- those who may not see them may view.
	redacted    boolean NOT NULL DEFAULT false,
	uploaded_by text NOT NULL,
	uploaded_at timestamptz NOT NULL,
	-- OCR is a job on the row: pending until a node with tesseract takes it
	-- (running, with a lease), then done or, after a few attempts, failed.
	-- A failure never touches the document.
	ocr_state    text NOT NULL DEFAULT 'pending',
	ocr_attempts integer NOT NULL DEFAULT 0,
	ocr_lease    timestamptz,
	ocr_at       timestamptz,
	ocr_error    text NOT NULL DEFAULT '',
	-- The same bytes uploaded again for the same order are the same document.
	UNIQUE (order_id, sha256)
);
CREATE INDEX documents_order ON documents (order_id, uploaded_at);
CREATE INDEX documents_ocr_queue ON documents (uploaded_at) WHERE ocr_state IN ('pending', 'running');

-- document_chunks hold a document's bytes in pieces of at most 1 MiB, so
-- neither upload nor download ever holds a whole file in memory.
CREATE TABLE document_chunks (
	document_id uuid NOT NULL REFERENCES documents (id),
	n           integer NOT NULL,
	data        bytea NOT NULL,
	PRIMARY KEY (document_id, n)
);

-- document_pages hold the machine-read text of each page.
CREATE TABLE document_pages (
	document_id uuid NOT NULL REFERENCES documents (id),
	page        integer NOT NULL,
	text        text NOT NULL,
	PRIMARY KEY (document_id, page)
);
