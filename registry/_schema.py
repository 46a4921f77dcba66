"""Schema migrations of the registry database, applied in order (``PRAGMA user_version``).

Never edit a released migration: add a new one at the end.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: institutions, filings, retired codes, batches, certificates, counters, photos, audit
    """
    CREATE TABLE institutions (
        code          TEXT PRIMARY KEY,
        name_zh       TEXT NOT NULL,
        variant       TEXT NOT NULL,
        status        TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'cancelled', 'merged')),
        status_date   TEXT,
        merged_into   TEXT REFERENCES institutions(code),
        filing        TEXT NOT NULL,          -- JSON of the current filing
        filing_version INTEGER NOT NULL DEFAULT 1,
        created_at    TEXT NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE filing_history (
        code        TEXT NOT NULL REFERENCES institutions(code),
        version     INTEGER NOT NULL,
        filed_at    TEXT NOT NULL,
        filing      TEXT NOT NULL,
        PRIMARY KEY (code, version)
    ) WITHOUT ROWID;

    -- 废置库: codes of cancelled or absorbed institutions, never assigned again
    CREATE TABLE retired_codes (
        code        TEXT PRIMARY KEY,
        retired_on  TEXT NOT NULL,
        reason      TEXT NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE batches (
        id              INTEGER PRIMARY KEY,
        institution_code TEXT NOT NULL REFERENCES institutions(code),
        source_name     TEXT NOT NULL,
        source_sha256   TEXT NOT NULL,
        rows            INTEGER NOT NULL,
        imported_at     TEXT NOT NULL,
        actor           TEXT NOT NULL,
        UNIQUE (institution_code, source_sha256)
    );

    CREATE TABLE photos (
        sha256  TEXT PRIMARY KEY,
        data    BLOB NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE certificates (
        id              INTEGER PRIMARY KEY,
        institution_code TEXT NOT NULL REFERENCES institutions(code),
        batch_id        INTEGER NOT NULL REFERENCES batches(id),
        row_no          INTEGER NOT NULL,
        name            TEXT NOT NULL,
        id_type         TEXT NOT NULL,
        id_number       TEXT NOT NULL,
        occupation      TEXT NOT NULL,
        job             TEXT NOT NULL,
        level           INTEGER NOT NULL CHECK (level BETWEEN 1 AND 5),
        photo_sha256    TEXT NOT NULL REFERENCES photos(sha256),
        work_unit       TEXT NOT NULL DEFAULT '',
        status          TEXT NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'valid', 'revoked', 'suspended')),
        version         INTEGER NOT NULL DEFAULT 1,
        qr_token        TEXT,
        reported_on     TEXT,
        created_at      TEXT NOT NULL,
        updated_at      TEXT NOT NULL
    );
    CREATE INDEX certificates_pending ON certificates (institution_code, status, id);
    CREATE INDEX certificates_holder ON certificates (institution_code, id_number, occupation, job, level);

    -- the register of issued numbers: one certificate, one number, written once, never changed
    CREATE TABLE issued_numbers (
        number          TEXT PRIMARY KEY,
        certificate_id  INTEGER NOT NULL UNIQUE REFERENCES certificates(id),
        issue_date      TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX issued_numbers_date ON issued_numbers (issue_date);

    CREATE VIEW certificate_view AS
    SELECT c.id, c.institution_code, c.batch_id, c.row_no, c.name, c.id_type, c.id_number, c.occupation, c.job,
           c.level, c.photo_sha256, c.work_unit, c.status, c.version, n.number, n.issue_date, c.qr_token,
           c.reported_on
    FROM certificates c LEFT JOIN issued_numbers n ON n.certificate_id = c.id;

    -- superseded versions of a certificate's data (corrections keep the originals readable)
    CREATE TABLE certificate_versions (
        certificate_id  INTEGER NOT NULL REFERENCES certificates(id),
        version         INTEGER NOT NULL,
        data            TEXT NOT NULL,
        superseded_at   TEXT NOT NULL,
        PRIMARY KEY (certificate_id, version)
    ) WITHOUT ROWID;

    -- the last serial given per institution, year and level; serials only ever go up
    CREATE TABLE number_counters (
        institution_code TEXT NOT NULL,
        year            INTEGER NOT NULL,
        level           INTEGER NOT NULL,
        last_serial     INTEGER NOT NULL CHECK (last_serial BETWEEN 0 AND 999999),
        PRIMARY KEY (institution_code, year, level)
    ) WITHOUT ROWID;

    CREATE TABLE audit (
        seq         INTEGER PRIMARY KEY,
        at          TEXT NOT NULL,
        actor       TEXT NOT NULL,
        action      TEXT NOT NULL,
        entity      TEXT NOT NULL,
        entity_key  TEXT NOT NULL,
        before      TEXT,
        after       TEXT,
        prev_hash   TEXT NOT NULL,
        hash        TEXT NOT NULL
    );
    CREATE INDEX audit_entity ON audit (entity, entity_key);

    CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, '审计日志只能追加 / the audit log is append-only'); END;
    CREATE TRIGGER audit_append_only_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, '审计日志只能追加 / the audit log is append-only'); END;
    CREATE TRIGGER certificates_logical_delete_only BEFORE DELETE ON certificates
    BEGIN SELECT RAISE(ABORT, '证书数据只能逻辑删除 / certificate data may only be deleted logically'); END;
    CREATE TRIGGER issued_numbers_fixed BEFORE UPDATE ON issued_numbers
    BEGIN SELECT RAISE(ABORT, '证书编号一经生成不得更改 / a certificate number never changes'); END;
    CREATE TRIGGER issued_numbers_kept BEFORE DELETE ON issued_numbers
    BEGIN SELECT RAISE(ABORT, '证书编号一经生成不得删除 / an issued number is never deleted'); END;
    CREATE TRIGGER institutions_no_delete BEFORE DELETE ON institutions
    BEGIN SELECT RAISE(ABORT, '机构记录不得删除 / institution records are never deleted'); END;
    CREATE TRIGGER retired_codes_no_delete BEFORE DELETE ON retired_codes
    BEGIN SELECT RAISE(ABORT, '废置库中的编码不得删除 / retired codes are never removed'); END;
    CREATE TRIGGER counters_only_up BEFORE UPDATE ON number_counters
    WHEN NEW.last_serial < OLD.last_serial
    BEGIN SELECT RAISE(ABORT, '证书序列码不得回退 / serials never go back'); END;
    """,
    # 2: signing identities per institution and seal (their certificate fingerprints are part of
    #    the filing) and deliveries of sealed PDFs
    """
    CREATE TABLE identities (
        name            TEXT PRIMARY KEY,
        institution_code TEXT NOT NULL REFERENCES institutions(code),
        seal_kind       TEXT NOT NULL CHECK (seal_kind IN ('institution', 'issuing', 'competition')),
        kind            TEXT NOT NULL CHECK (kind IN ('pkcs12', 'pkcs11')),
        location        TEXT NOT NULL,   -- JSON: {"path"} or {"module", "token_label", "key_label", "cert_label"}
        cert_pem        TEXT NOT NULL,
        fingerprint     TEXT NOT NULL,   -- SHA-256 of the certificate (DER), hex
        not_after       TEXT NOT NULL,
        added_at        TEXT NOT NULL,
        retired_at      TEXT
    ) WITHOUT ROWID;
    CREATE INDEX identities_institution ON identities (institution_code, seal_kind);

    CREATE TABLE deliveries (
        certificate_id  INTEGER NOT NULL REFERENCES certificates(id),
        version         INTEGER NOT NULL,
        pdf_sha256      TEXT NOT NULL,
        file_name       TEXT NOT NULL,
        level           TEXT NOT NULL,
        delivered_at    TEXT NOT NULL,
        PRIMARY KEY (certificate_id, version)
    ) WITHOUT ROWID;
    CREATE TRIGGER deliveries_kept BEFORE DELETE ON deliveries
    BEGIN SELECT RAISE(ABORT, '交付记录不得删除 / delivery records are never deleted'); END;
    """,
    # 3: the certificate lifecycle — lost-certificate proofs and their register, data returned by
    #    the authority for correction, the paper blank-stock ledger, signed audit checkpoints
    """
    CREATE TRIGGER certificate_versions_kept BEFORE DELETE ON certificate_versions
    BEGIN SELECT RAISE(ABORT, '证书历史版本不得删除 / superseded versions are never deleted'); END;
    CREATE TRIGGER certificate_versions_fixed BEFORE UPDATE ON certificate_versions
    BEGIN SELECT RAISE(ABORT, '证书历史版本不得更改 / superseded versions never change'); END;

    -- 职业技能等级证书证明 (001_… 附件4): one register entry per proof document
    CREATE TABLE proofs (
        proof_number    TEXT PRIMARY KEY,
        certificate_id  INTEGER NOT NULL REFERENCES certificates(id),
        version         INTEGER NOT NULL,
        applied_on      TEXT NOT NULL,
        issued_on       TEXT NOT NULL,
        pdf_sha256      TEXT,
        file_name       TEXT,
        created_at      TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX proofs_certificate ON proofs (certificate_id);
    CREATE TABLE proof_counters (
        institution_code TEXT NOT NULL,
        year            INTEGER NOT NULL,
        last_serial     INTEGER NOT NULL,
        PRIMARY KEY (institution_code, year)
    ) WITHOUT ROWID;
    CREATE TRIGGER proofs_kept BEFORE DELETE ON proofs
    BEGIN SELECT RAISE(ABORT, '证明登记不得删除 / proof register entries are never deleted'); END;
    CREATE TRIGGER proofs_sealed_once BEFORE UPDATE ON proofs
    WHEN OLD.pdf_sha256 IS NOT NULL OR NEW.proof_number != OLD.proof_number OR NEW.certificate_id != OLD.certificate_id
    BEGIN SELECT RAISE(ABORT, '证明登记一经签章不得更改 / a sealed proof entry never changes'); END;
    CREATE TRIGGER proof_counters_only_up BEFORE UPDATE ON proof_counters
    WHEN NEW.last_serial < OLD.last_serial
    BEGIN SELECT RAISE(ABORT, '证明序号不得回退 / proof serials never go back'); END;

    -- data the authority returned for correction (SPEC §4: 10/15/20 working days to resubmit)
    CREATE TABLE report_returns (
        certificate_id  INTEGER NOT NULL REFERENCES certificates(id),
        returned_on     TEXT NOT NULL,
        reason          TEXT NOT NULL,
        resubmitted_on  TEXT,
        PRIMARY KEY (certificate_id, returned_on)
    ) WITHOUT ROWID;
    CREATE TRIGGER report_returns_kept BEFORE DELETE ON report_returns
    BEGIN SELECT RAISE(ABORT, '退回记录不得删除 / return records are never deleted'); END;

    -- paper blanks (001_… 第五-七条, 002_… 第十八条): receipts of blank stock and every sheet's fate
    CREATE TABLE blank_receipts (
        id              INTEGER PRIMARY KEY,
        institution_code TEXT NOT NULL REFERENCES institutions(code),
        received_on     TEXT NOT NULL,
        first_serial    TEXT NOT NULL,
        last_serial     TEXT NOT NULL,
        count           INTEGER NOT NULL CHECK (count > 0),
        source          TEXT NOT NULL,
        note            TEXT NOT NULL DEFAULT '',
        created_at      TEXT NOT NULL
    );
    CREATE TABLE blank_sheets (
        serial          TEXT PRIMARY KEY,
        institution_code TEXT NOT NULL REFERENCES institutions(code),
        receipt_id      INTEGER NOT NULL REFERENCES blank_receipts(id),
        state           TEXT NOT NULL DEFAULT 'in_stock'
                        CHECK (state IN ('in_stock', 'printed', 'spoiled', 'destroyed')),
        certificate_id  INTEGER REFERENCES certificates(id),
        changed_on      TEXT,
        reason          TEXT
    ) WITHOUT ROWID;
    CREATE INDEX blank_sheets_state ON blank_sheets (institution_code, state, serial);
    CREATE INDEX blank_sheets_certificate ON blank_sheets (certificate_id) WHERE certificate_id IS NOT NULL;
    CREATE TRIGGER blank_receipts_kept BEFORE DELETE ON blank_receipts
    BEGIN SELECT RAISE(ABORT, '空白证书入库记录不得删除 / blank-stock receipts are never deleted'); END;
    CREATE TRIGGER blank_sheets_kept BEFORE DELETE ON blank_sheets
    BEGIN SELECT RAISE(ABORT, '空白证书台账不得删除 / blank-sheet records are never deleted'); END;
    CREATE TRIGGER blank_sheets_one_way BEFORE UPDATE ON blank_sheets
    WHEN OLD.state != 'in_stock' AND NOT (OLD.state = 'spoiled' AND NEW.state = 'destroyed')
    BEGIN SELECT RAISE(ABORT, '空白证书状态只能前进 / a blank sheet only moves forward'); END;

    -- signed checkpoints of the audit log's Merkle tree (RFC 6962), one per publish
    CREATE TABLE checkpoints (
        size            INTEGER PRIMARY KEY,
        root            TEXT NOT NULL,
        signed_at       TEXT NOT NULL,
        public_key      TEXT NOT NULL,
        signature       TEXT NOT NULL
    );
    CREATE TRIGGER checkpoints_kept BEFORE DELETE ON checkpoints
    BEGIN SELECT RAISE(ABORT, '审计检查点不得删除 / checkpoints are never deleted'); END;
    CREATE TRIGGER checkpoints_fixed BEFORE UPDATE ON checkpoints
    BEGIN SELECT RAISE(ABORT, '审计检查点不得更改 / checkpoints never change'); END;
    """,
    # 4: renewals of delivered PDFs (skillcert renew): a fresh document timestamp and validation
    #    data appended to the delivered file; the old copy a holder keeps stays a delivered copy
    """
    CREATE TABLE renewals (
        certificate_id  INTEGER NOT NULL REFERENCES certificates(id),
        version         INTEGER NOT NULL,
        pdf_sha256      TEXT NOT NULL,   -- the renewed file
        previous_sha256 TEXT NOT NULL,   -- the file it extends (a delivery or an earlier renewal)
        renew_by        TEXT NOT NULL,   -- when the newest timestamp stops validating offline
        renewed_at      TEXT NOT NULL,
        PRIMARY KEY (certificate_id, version, pdf_sha256)
    ) WITHOUT ROWID;
    CREATE TRIGGER renewals_kept BEFORE DELETE ON renewals
    BEGIN SELECT RAISE(ABORT, '续期记录不得删除 / renewal records are never deleted'); END;
    """,
    # 5: leases of issue runs on undelivered certificates (several runs share one batch): working
    #    state, not a record — rows come and go, nothing is audited, nothing in them is personal
    """
    CREATE TABLE issue_claims (
        certificate_id  INTEGER PRIMARY KEY REFERENCES certificates(id),
        holder          TEXT NOT NULL,   -- the run: host, pid and a random tag
        expires_at      REAL NOT NULL,   -- seconds since the epoch, on the database's clock
        claimed_at      TEXT NOT NULL
    );
    CREATE INDEX issue_claims_holder ON issue_claims (holder);
    """,
    # 6: personal data at rest — names, ID numbers and photos sealed field by field
    #    (registry/fieldcrypt.py); an ID number is found by its keyed hash, never its clear value
    """
    ALTER TABLE certificates ADD COLUMN id_hash TEXT;
    CREATE INDEX certificates_holder_key ON certificates (institution_code, id_hash, occupation, job, level);
    """,
    # 7: an institution's QR and credential key (ECDSA P-256) is filed as a signing identity of
    #    seal_kind 'qr': a key purpose, not a seal (the table is rebuilt to widen its CHECK)
    """
    CREATE TABLE identities_v7 (
        name            TEXT PRIMARY KEY,
        institution_code TEXT NOT NULL REFERENCES institutions(code),
        seal_kind       TEXT NOT NULL CHECK (seal_kind IN ('institution', 'issuing', 'competition', 'qr')),
        kind            TEXT NOT NULL CHECK (kind IN ('pkcs12', 'pkcs11')),
        location        TEXT NOT NULL,
        cert_pem        TEXT NOT NULL,
        fingerprint     TEXT NOT NULL,
        not_after       TEXT NOT NULL,
        added_at        TEXT NOT NULL,
        retired_at      TEXT
    ) WITHOUT ROWID;
    INSERT INTO identities_v7 SELECT * FROM identities;
    DROP TABLE identities;
    ALTER TABLE identities_v7 RENAME TO identities;
    CREATE INDEX identities_institution ON identities (institution_code, seal_kind);
    """,
)
