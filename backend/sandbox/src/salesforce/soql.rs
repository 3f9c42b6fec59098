//! A parser for the subset of SOQL that integrations send:
//!
//! ```text
//! SELECT f1, f2, Parent.f3 | COUNT() FROM Type
//!   [WHERE cond] [ORDER BY f [ASC|DESC] [NULLS FIRST|LAST], …] [LIMIT n] [OFFSET n]
//! cond: f (= | != | <> | < | <= | > | >=) literal | f LIKE 'pat' | f [NOT] IN (literal, …)
//!       | NOT cond | cond AND cond | cond OR cond | ( cond )
//! literal: 'string' | 123 | -1.5 | true | false | null | 2024-05-01 | 2024-05-01T00:00:00Z
//!       | 2024-05-01T00:00:00+01:00 | TODAY | YESTERDAY | TOMORROW | LAST_N_DAYS:n | NEXT_N_DAYS:n
//! ```
//!
//! Hand-written because no maintained Rust crate parses SOQL (the SOQL crates on crates.io are
//! query *builders* or abandoned), and because the emulator needs Salesforce's own error
//! positions ("ERROR at Row:1:Column:12") and its rules, such as AND and OR not mixing without
//! parentheses. This module only parses; `query.rs` checks names against the schema and runs
//! the query.

use chrono::{DateTime, NaiveDate, Utc};

/// Something with the byte offset where it starts in the query text.
#[derive(Clone, Debug, PartialEq)]
pub struct Spanned<T> {
    pub value: T,
    pub pos: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    pub select: Select,
    pub from: Spanned<String>,
    pub filter: Option<Expr>,
    pub order: Vec<OrderItem>,
    pub limit: Option<Spanned<u64>>,
    pub offset: Option<Spanned<u64>>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Select {
    Count,
    /// Field paths as written: `Email`, `Account.Name`.
    Fields(Vec<Spanned<String>>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Cmp {
        field: Spanned<String>,
        op: CmpOp,
        value: Spanned<Literal>,
    },
    In {
        field: Spanned<String>,
        values: Vec<Spanned<Literal>>,
        negated: bool,
    },
    Like {
        field: Spanned<String>,
        pattern: Spanned<Literal>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RelativeDate {
    Today,
    Yesterday,
    Tomorrow,
    LastNDays(u32),
    NextNDays(u32),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    Null,
    Bool(bool),
    Str(String),
    Num(f64),
    Date(NaiveDate),
    DateTime(DateTime<Utc>),
    Relative(RelativeDate),
}

#[derive(Clone, Debug, PartialEq)]
pub struct OrderItem {
    pub field: Spanned<String>,
    pub descending: bool,
    /// `None`: Salesforce's default (nulls first ascending, last descending).
    pub nulls_first: Option<bool>,
}

/// Why the text is not a query, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub pos: usize,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(f64),
    Date(NaiveDate),
    DateTime(DateTime<Utc>),
    Op(CmpOp),
    LParen,
    RParen,
    Comma,
    Colon,
    Eof,
}

#[derive(Clone, Debug, PartialEq)]
struct Token {
    tok: Tok,
    pos: usize,
    text: String,
}

fn lex(text: &str) -> Result<Vec<Token>, ParseError> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        let push = |tokens: &mut Vec<Token>, tok: Tok, end: usize| {
            tokens.push(Token {
                tok,
                pos: start,
                text: text[start..end].to_string(),
            })
        };
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'(' => {
                push(&mut tokens, Tok::LParen, i + 1);
                i += 1;
            }
            b')' => {
                push(&mut tokens, Tok::RParen, i + 1);
                i += 1;
            }
            b',' => {
                push(&mut tokens, Tok::Comma, i + 1);
                i += 1;
            }
            b':' => {
                push(&mut tokens, Tok::Colon, i + 1);
                i += 1;
            }
            b'=' => {
                push(&mut tokens, Tok::Op(CmpOp::Eq), i + 1);
                i += 1;
            }
            b'!' if bytes.get(i + 1) == Some(&b'=') => {
                push(&mut tokens, Tok::Op(CmpOp::Ne), i + 2);
                i += 2;
            }
            b'<' | b'>' => {
                let (op, len) = match (c, bytes.get(i + 1)) {
                    (b'<', Some(b'=')) => (CmpOp::Le, 2),
                    (b'<', Some(b'>')) => (CmpOp::Ne, 2),
                    (b'>', Some(b'=')) => (CmpOp::Ge, 2),
                    (b'<', _) => (CmpOp::Lt, 1),
                    _ => (CmpOp::Gt, 1),
                };
                push(&mut tokens, Tok::Op(op), i + len);
                i += len;
            }
            b'\'' => {
                let mut value = String::new();
                let mut chars = text[i + 1..].char_indices();
                let mut closed = None;
                while let Some((offset, ch)) = chars.next() {
                    match ch {
                        '\'' => {
                            closed = Some(i + 1 + offset + 1);
                            break;
                        }
                        '\\' => {
                            let Some((_, escaped)) = chars.next() else { break };
                            match escaped {
                                'n' => value.push('\n'),
                                'r' => value.push('\r'),
                                't' => value.push('\t'),
                                'b' => value.push('\u{8}'),
                                'f' => value.push('\u{c}'),
                                '\'' | '"' | '\\' => value.push(escaped),
                                // Only meaningful to LIKE: kept escaped for the pattern matcher.
                                '%' | '_' => {
                                    value.push('\\');
                                    value.push(escaped);
                                }
                                other => {
                                    return Err(ParseError {
                                        pos: i + 1 + offset,
                                        message: format!(
                                            "Invalid string literal '\\{other}'. Illegal character sequence '\\{other}' in string literal."
                                        ),
                                    });
                                }
                            }
                        }
                        other => value.push(other),
                    }
                }
                let Some(end) = closed else {
                    return Err(ParseError {
                        pos: start,
                        message: "unexpected token: <EOF>".into(),
                    });
                };
                push(&mut tokens, Tok::Str(value), end);
                i = end;
            }
            b'0'..=b'9' | b'-' | b'+' | b'.' => {
                let mut end = i + 1;
                while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || b"-+:.".contains(&bytes[end])) {
                    end += 1;
                }
                let word = &text[i..end];
                let tok = number_or_time(word).ok_or_else(|| ParseError {
                    pos: start,
                    message: format!("unexpected token: '{word}'"),
                })?;
                push(&mut tokens, tok, end);
                i = end;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let mut end = i + 1;
                while end < bytes.len()
                    && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_' || bytes[end] == b'.')
                {
                    end += 1;
                }
                push(&mut tokens, Tok::Ident(text[i..end].to_string()), end);
                i = end;
            }
            _ => {
                let ch = text[i..].chars().next().unwrap_or('?');
                return Err(ParseError {
                    pos: start,
                    message: format!("unexpected token: '{ch}'"),
                });
            }
        }
    }
    tokens.push(Token {
        tok: Tok::Eof,
        pos: text.len(),
        text: "<EOF>".into(),
    });
    Ok(tokens)
}

/// A number, a date (`2024-05-01`) or a date-time with its zone (`…T10:00:00Z`, `…+01:00`).
fn number_or_time(word: &str) -> Option<Tok> {
    if let Ok(date) = NaiveDate::parse_from_str(word, "%Y-%m-%d")
        && word.len() == 10
    {
        return Some(Tok::Date(date));
    }
    if word.len() > 10 && word.as_bytes().get(10) == Some(&b'T') {
        let normalised = word
            .strip_suffix('Z')
            .map_or(word.to_string(), |w| format!("{w}+00:00"));
        for format in ["%Y-%m-%dT%H:%M:%S%.f%:z", "%Y-%m-%dT%H:%M:%S%.f%z"] {
            if let Ok(time) = DateTime::parse_from_str(&normalised, format) {
                return Some(Tok::DateTime(time.with_timezone(&Utc)));
            }
        }
        return None;
    }
    let digits = word.strip_prefix('+').unwrap_or(word);
    if digits.chars().all(|c| c.is_ascii_digit() || c == '.' || c == '-') {
        return digits.parse::<f64>().ok().filter(|n| n.is_finite()).map(Tok::Num);
    }
    None
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

fn keyword(token: &Token, word: &str) -> bool {
    matches!(&token.tok, Tok::Ident(ident) if ident.eq_ignore_ascii_case(word))
}

const RESERVED: &[&str] = &[
    "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "LIKE", "IN", "ORDER", "BY", "ASC", "DESC", "NULLS", "FIRST",
    "LAST", "LIMIT", "OFFSET", "GROUP", "HAVING", "WITH",
];

impl Parser {
    fn peek(&self) -> &Token {
        &self.tokens[self.at.min(self.tokens.len() - 1)]
    }

    fn next(&mut self) -> Token {
        let token = self.peek().clone();
        if self.at < self.tokens.len() - 1 {
            self.at += 1;
        }
        token
    }

    fn unexpected(&self) -> ParseError {
        let token = self.peek();
        let message = if token.tok == Tok::Eof {
            "unexpected token: <EOF>".to_string()
        } else {
            format!("unexpected token: '{}'", token.text)
        };
        ParseError {
            pos: token.pos,
            message,
        }
    }

    fn eat_keyword(&mut self, word: &str) -> bool {
        if keyword(self.peek(), word) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect_keyword(&mut self, word: &str) -> Result<(), ParseError> {
        if self.eat_keyword(word) {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn expect(&mut self, tok: &Tok) -> Result<(), ParseError> {
        if &self.peek().tok == tok {
            self.next();
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    /// A field path or object name (not a reserved word).
    fn name(&mut self) -> Result<Spanned<String>, ParseError> {
        match &self.peek().tok {
            Tok::Ident(ident) if !RESERVED.iter().any(|r| r.eq_ignore_ascii_case(ident)) => {
                let token = self.next();
                Ok(Spanned {
                    value: ident_of(&token),
                    pos: token.pos,
                })
            }
            _ => Err(self.unexpected()),
        }
    }

    fn integer(&mut self) -> Result<Spanned<u64>, ParseError> {
        match self.peek().tok {
            Tok::Num(n) if n >= 0.0 && n.fract() == 0.0 => {
                let token = self.next();
                Ok(Spanned {
                    value: n as u64,
                    pos: token.pos,
                })
            }
            _ => Err(self.unexpected()),
        }
    }

    fn query(&mut self) -> Result<Query, ParseError> {
        self.expect_keyword("SELECT")?;
        let select = if keyword(self.peek(), "COUNT")
            && self.tokens.get(self.at + 1).map(|t| &t.tok) == Some(&Tok::LParen)
        {
            self.next();
            self.next();
            if self.peek().tok != Tok::RParen {
                return Err(ParseError {
                    pos: self.peek().pos,
                    message: "only COUNT() is supported here; aggregate functions with fields need GROUP BY, which \
                              this sandbox does not emulate"
                        .into(),
                });
            }
            self.next();
            Select::Count
        } else {
            let mut fields = vec![self.name()?];
            while self.peek().tok == Tok::Comma {
                self.next();
                fields.push(self.name()?);
            }
            Select::Fields(fields)
        };
        self.expect_keyword("FROM")?;
        let from = self.name()?;
        let filter = if self.eat_keyword("WHERE") {
            Some(self.condition()?)
        } else {
            None
        };
        let mut order = Vec::new();
        if self.eat_keyword("ORDER") {
            self.expect_keyword("BY")?;
            loop {
                let field = self.name()?;
                let descending = if self.eat_keyword("DESC") {
                    true
                } else {
                    self.eat_keyword("ASC");
                    false
                };
                let nulls_first = if self.eat_keyword("NULLS") {
                    if self.eat_keyword("FIRST") {
                        Some(true)
                    } else {
                        self.expect_keyword("LAST")?;
                        Some(false)
                    }
                } else {
                    None
                };
                order.push(OrderItem {
                    field,
                    descending,
                    nulls_first,
                });
                if self.peek().tok != Tok::Comma {
                    break;
                }
                self.next();
            }
        }
        let limit = if self.eat_keyword("LIMIT") {
            Some(self.integer()?)
        } else {
            None
        };
        let offset = if self.eat_keyword("OFFSET") {
            Some(self.integer()?)
        } else {
            None
        };
        if self.peek().tok != Tok::Eof {
            return Err(self.unexpected());
        }
        Ok(Query {
            select,
            from,
            filter,
            order,
            limit,
            offset,
        })
    }

    /// Conditions joined by one kind of connective: SOQL wants parentheses to mix AND and OR.
    fn condition(&mut self) -> Result<Expr, ParseError> {
        let first = self.unary()?;
        let mut parts = vec![first];
        let mut connective: Option<&'static str> = None;
        loop {
            let word = if keyword(self.peek(), "AND") {
                "AND"
            } else if keyword(self.peek(), "OR") {
                "OR"
            } else {
                break;
            };
            if connective.is_some_and(|c| c != word) {
                return Err(self.unexpected());
            }
            connective = Some(word);
            self.next();
            parts.push(self.unary()?);
        }
        Ok(match connective {
            None => parts.remove(0),
            Some("AND") => Expr::And(parts),
            Some(_) => Expr::Or(parts),
        })
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        if self.eat_keyword("NOT") {
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        if self.peek().tok == Tok::LParen {
            self.next();
            let inner = self.condition()?;
            self.expect(&Tok::RParen)?;
            return Ok(inner);
        }
        let field = self.name()?;
        if self.eat_keyword("LIKE") {
            let pattern = self.literal()?;
            return Ok(Expr::Like { field, pattern });
        }
        let negated = if keyword(self.peek(), "NOT") && self.tokens.get(self.at + 1).is_some_and(|t| keyword(t, "IN")) {
            self.next();
            true
        } else {
            false
        };
        if self.eat_keyword("IN") {
            self.expect(&Tok::LParen)?;
            let mut values = vec![self.literal()?];
            while self.peek().tok == Tok::Comma {
                self.next();
                values.push(self.literal()?);
            }
            self.expect(&Tok::RParen)?;
            return Ok(Expr::In { field, values, negated });
        }
        if negated {
            return Err(self.unexpected());
        }
        let op = match self.peek().tok {
            Tok::Op(op) => {
                self.next();
                op
            }
            _ => return Err(self.unexpected()),
        };
        let value = self.literal()?;
        Ok(Expr::Cmp { field, op, value })
    }

    fn literal(&mut self) -> Result<Spanned<Literal>, ParseError> {
        let token = self.peek().clone();
        let value = match &token.tok {
            Tok::Str(s) => Literal::Str(s.clone()),
            Tok::Num(n) => Literal::Num(*n),
            Tok::Date(d) => Literal::Date(*d),
            Tok::DateTime(t) => Literal::DateTime(*t),
            Tok::Ident(word) => {
                let upper = word.to_ascii_uppercase();
                match upper.as_str() {
                    "NULL" => Literal::Null,
                    "TRUE" => Literal::Bool(true),
                    "FALSE" => Literal::Bool(false),
                    "TODAY" => Literal::Relative(RelativeDate::Today),
                    "YESTERDAY" => Literal::Relative(RelativeDate::Yesterday),
                    "TOMORROW" => Literal::Relative(RelativeDate::Tomorrow),
                    "LAST_N_DAYS" | "NEXT_N_DAYS" => {
                        self.next();
                        self.expect(&Tok::Colon)?;
                        let n = self.integer()?.value as u32;
                        let relative = if upper == "LAST_N_DAYS" {
                            RelativeDate::LastNDays(n)
                        } else {
                            RelativeDate::NextNDays(n)
                        };
                        return Ok(Spanned {
                            value: Literal::Relative(relative),
                            pos: token.pos,
                        });
                    }
                    _ => return Err(self.unexpected()),
                }
            }
            _ => return Err(self.unexpected()),
        };
        self.next();
        Ok(Spanned { value, pos: token.pos })
    }
}

fn ident_of(token: &Token) -> String {
    match &token.tok {
        Tok::Ident(ident) => ident.clone(),
        _ => token.text.clone(),
    }
}

pub fn parse(text: &str) -> Result<Query, ParseError> {
    let tokens = lex(text)?;
    Parser { tokens, at: 0 }.query()
}

/// `\nSELECT …\n       ^\nERROR at Row:1:Column:8\n<message>`, the way Salesforce reports a
/// query problem: the line, a caret under the spot, its 1-based row and column.
pub fn describe_error(text: &str, pos: usize, message: &str) -> String {
    let pos = pos.min(text.len());
    let before = &text[..pos];
    let row = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[pos..].find('\n').map_or(text.len(), |i| pos + i);
    let column = text[line_start..pos].chars().count() + 1;
    format!(
        "\n{}\n{}^\nERROR at Row:{row}:Column:{column}\n{message}",
        &text[line_start..line_end],
        " ".repeat(column - 1)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn field(name: &str, pos: usize) -> Spanned<String> {
        Spanned {
            value: name.into(),
            pos,
        }
    }

    #[test]
    fn parses_the_usual_incremental_query() {
        let query = parse(
            "SELECT Id, Email, Account.Name FROM Contact WHERE (SystemModstamp > 2024-05-01T00:00:00Z) OR \
             (SystemModstamp = 2024-05-01T00:00:00+01:00 AND Id > '003000000000001') ORDER BY SystemModstamp ASC, \
             Id DESC NULLS LAST LIMIT 200 OFFSET 10",
        )
        .expect("parses");
        assert_eq!(
            query.select,
            Select::Fields(vec![field("Id", 7), field("Email", 11), field("Account.Name", 18)])
        );
        assert_eq!(query.from.value, "Contact");
        let Some(Expr::Or(parts)) = &query.filter else {
            panic!("{:?}", query.filter)
        };
        assert_eq!(parts.len(), 2);
        let Expr::And(inner) = &parts[1] else { panic!() };
        let Expr::Cmp { value, op, .. } = &inner[0] else {
            panic!()
        };
        assert_eq!(*op, CmpOp::Eq);
        assert_eq!(
            value.value,
            Literal::DateTime(Utc.with_ymd_and_hms(2024, 4, 30, 23, 0, 0).unwrap())
        );
        assert_eq!(query.order.len(), 2);
        assert!(!query.order[0].descending && query.order[1].descending);
        assert_eq!(query.order[1].nulls_first, Some(false));
        assert_eq!(query.limit.map(|l| l.value), Some(200));
        assert_eq!(query.offset.map(|o| o.value), Some(10));
    }

    #[test]
    fn parses_literals_operators_and_keywords_in_any_case() {
        let query = parse(
            "select count() from Opportunity where Amount >= -1.5 and IsWon != false and StageName not in \
             ('Closed Lost', 'Prospecting') and Name like 'Acme\\_%' and CloseDate < 2024-12-31 and \
             CreatedDate = LAST_N_DAYS:30 and NOT (Description = null) and Owner.Name <> 'x'",
        )
        .expect("parses");
        assert_eq!(query.select, Select::Count);
        let Some(Expr::And(parts)) = query.filter else { panic!() };
        assert_eq!(parts.len(), 8);
        assert!(matches!(&parts[0], Expr::Cmp { op: CmpOp::Ge, value, .. } if value.value == Literal::Num(-1.5)));
        assert!(matches!(&parts[1], Expr::Cmp { value, .. } if value.value == Literal::Bool(false)));
        assert!(matches!(&parts[2], Expr::In { negated: true, values, .. } if values.len() == 2));
        assert!(matches!(&parts[3], Expr::Like { pattern, .. } if pattern.value == Literal::Str("Acme\\_%".into())));
        assert!(
            matches!(&parts[4], Expr::Cmp { value, .. } if value.value == Literal::Date(NaiveDate::from_ymd_opt(2024, 12, 31).unwrap()))
        );
        assert!(
            matches!(&parts[5], Expr::Cmp { value, .. } if value.value == Literal::Relative(RelativeDate::LastNDays(30)))
        );
        assert!(matches!(&parts[6], Expr::Not(inner) if matches!(**inner, Expr::Cmp { .. })));
        assert!(matches!(&parts[7], Expr::Cmp { op: CmpOp::Ne, .. }));
        let escaped = parse("SELECT Id FROM Contact WHERE LastName = 'O\\'Brien'").expect("escape");
        assert!(
            matches!(escaped.filter, Some(Expr::Cmp { value, .. }) if value.value == Literal::Str("O'Brien".into()))
        );
    }

    #[test]
    fn errors_say_where() {
        let err = parse("SELECT Id FORM Contact").unwrap_err();
        assert_eq!(
            err,
            ParseError {
                pos: 10,
                message: "unexpected token: 'FORM'".into()
            }
        );
        assert_eq!(
            describe_error("SELECT Id FORM Contact", err.pos, &err.message),
            "\nSELECT Id FORM Contact\n          ^\nERROR at Row:1:Column:11\nunexpected token: 'FORM'"
        );
        let mixed = parse("SELECT Id FROM Contact WHERE A = 1 AND B = 2 OR C = 3").unwrap_err();
        assert_eq!(mixed.message, "unexpected token: 'OR'");
        assert_eq!(
            parse("SELECT Id FROM Contact WHERE").unwrap_err().message,
            "unexpected token: <EOF>"
        );
        assert!(parse("SELECT FROM Contact").is_err());
        assert!(parse("SELECT Id FROM Contact LIMIT -1").is_err());
        assert!(parse("SELECT Id FROM Contact WHERE Name = 'unterminated").is_err());
        assert!(
            parse("SELECT Id FROM Contact WHERE CreatedDate > 2024-05-01T00:00:00").is_err(),
            "zone required"
        );
        assert!(parse("SELECT COUNT(Id) FROM Contact").is_err());
        let multi = "SELECT Id\nFROM Contact\nWHERE Nme = 'x'";
        assert!(describe_error(multi, multi.find("Nme").unwrap(), "m").contains("ERROR at Row:3:Column:7"));
    }
}
