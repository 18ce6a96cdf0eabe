//! The rule text as tokens, each with the place it starts, so errors can say line and column.

use super::parse::ParseError;

/// One token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Token {
    /// A name: a keyword, attribute, function or bare value (`nesl`, `and`, `S1`).
    Ident(String),
    /// A number as written (`30`, `12.5`).
    Number(String),
    /// A count of days (`30d`).
    Days(u32),
    /// A calendar day (`2026-01-31`).
    Date(jiff::civil::Date),
    /// A quoted string, unescaped.
    Str(String),
    /// `=`, `!=`, `<`, `<=`, `>`, `>=`.
    Op(&'static str),
    /// `(`
    Open,
    /// `)`
    Close,
    /// `,`
    Comma,
    /// `..`
    Range,
    /// The end of the text.
    End,
}

impl Token {
    /// How an error names it.
    pub(super) fn describe(&self) -> String {
        match self {
            Self::Ident(name) => format!("`{name}`"),
            Self::Number(text) => format!("the number {text}"),
            Self::Days(days) => format!("`{days}d`"),
            Self::Date(date) => format!("the date {date}"),
            Self::Str(text) => format!("the string \"{text}\""),
            Self::Op(op) => format!("`{op}`"),
            Self::Open => "`(`".to_owned(),
            Self::Close => "`)`".to_owned(),
            Self::Comma => "`,`".to_owned(),
            Self::Range => "`..`".to_owned(),
            Self::End => "the end of the rule".to_owned(),
        }
    }
}

/// A token and where it starts (a byte offset into the text).
#[derive(Debug, Clone)]
pub(super) struct Spanned {
    pub(super) token: Token,
    pub(super) at: usize,
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Splits `text` into tokens, ending with [`Token::End`].
pub(super) fn tokens(text: &str) -> Result<Vec<Spanned>, ParseError> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(at, c)) = chars.peek() {
        let token = match c {
            c if c.is_whitespace() => {
                chars.next();
                continue;
            }
            '#' => {
                // A comment runs to the end of the line.
                while chars.next_if(|&(_, c)| c != '\n').is_some() {}
                continue;
            }
            '(' | ')' | ',' => {
                chars.next();
                match c {
                    '(' => Token::Open,
                    ')' => Token::Close,
                    _ => Token::Comma,
                }
            }
            '.' => {
                chars.next();
                if chars.next_if(|&(_, c)| c == '.').is_none() {
                    return Err(ParseError::at(text, at, "`..` between two dates", "`.`"));
                }
                Token::Range
            }
            '=' | '!' | '<' | '>' => {
                chars.next();
                let equals = chars.next_if(|&(_, c)| c == '=').is_some();
                match (c, equals) {
                    // `==` reads as `=`.
                    ('=', _) => Token::Op("="),
                    ('!', true) => Token::Op("!="),
                    ('<', false) => Token::Op("<"),
                    ('<', true) => Token::Op("<="),
                    ('>', false) => Token::Op(">"),
                    ('>', true) => Token::Op(">="),
                    _ => return Err(ParseError::at(text, at, "`!=`", "`!`")),
                }
            }
            '"' => {
                chars.next();
                let mut value = String::new();
                loop {
                    match chars.next() {
                        Some((_, '"')) => break,
                        Some((_, '\\')) => match chars.next() {
                            Some((_, c @ ('"' | '\\'))) => value.push(c),
                            Some((escape, c)) => {
                                return Err(ParseError::at(
                                    text,
                                    escape - 1,
                                    "`\\\"` or `\\\\` inside a string",
                                    &format!("`\\{c}`"),
                                ));
                            }
                            None => break,
                        },
                        Some((_, '\n')) | None => {
                            return Err(ParseError::at(
                                text,
                                at,
                                "a closing `\"`",
                                "a string that never ends",
                            ));
                        }
                        Some((_, c)) => value.push(c),
                    }
                }
                Token::Str(value)
            }
            c if c.is_ascii_digit() => {
                let mut end = at;
                while let Some(&(i, c)) = chars.peek() {
                    // A `.` belongs to the number only before a digit: `1.5`, not `..`.
                    let keep = c == '-'
                        || is_ident(c)
                        || (c == '.' && text[i + 1..].starts_with(|n: char| n.is_ascii_digit()));
                    if !keep {
                        break;
                    }
                    chars.next();
                    end = i + c.len_utf8();
                }
                number_like(text, at, &text[at..end])?
            }
            c if is_ident_start(c) => {
                let mut end = at;
                while let Some((i, c)) = chars.next_if(|&(_, c)| is_ident(c)) {
                    end = i + c.len_utf8();
                }
                Token::Ident(text[at..end].to_owned())
            }
            other => {
                return Err(ParseError::at(
                    text,
                    at,
                    "a condition, a value or an operator",
                    &format!("`{other}`"),
                ));
            }
        };
        out.push(Spanned { token, at });
    }
    out.push(Spanned {
        token: Token::End,
        at: text.len(),
    });
    Ok(out)
}

/// A word that starts with a digit: a number, a count of days or a date.
fn number_like(text: &str, at: usize, word: &str) -> Result<Token, ParseError> {
    if word.contains('-') {
        return crate::parse_date(word).map(Token::Date).map_err(|_| {
            ParseError::at(text, at, "a date such as 2026-01-31", &format!("`{word}`"))
        });
    }
    if let Some(days) = word.strip_suffix('d')
        && !days.is_empty()
        && days.bytes().all(|b| b.is_ascii_digit())
    {
        return days.parse().map(Token::Days).map_err(|_| {
            ParseError::at(
                text,
                at,
                "a number of days below 4294967296",
                &format!("`{word}`"),
            )
        });
    }
    if word.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Ok(Token::Number(word.to_owned()));
    }
    Err(ParseError::at(
        text,
        at,
        "a number, a number of days such as 30d, or a date",
        &format!("`{word}`"),
    ))
}
