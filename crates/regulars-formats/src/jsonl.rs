//! JSON Lines: one JSON object per line in the API's request shape for the kind (amounts in
//! minor units), so a file is exactly what the batch endpoints would be sent.

use std::io::{BufRead, BufReader, Read};
use std::marker::PhantomData;

use regulars_api_types::{
    EventRequest, InteractionRequest, MemberRequest, OrderLineImportRequest, OrderRequest,
    ReturnRequest, StoreRequest,
};
use regulars_domain::{
    BehaviourEvent, FieldErrors, Interaction, MemberProfile, NewReturn, Order, OrderId, OrderLine,
    Store,
};
use serde::de::DeserializeOwned;

use crate::csv_read::{ROW_FIELD, ReadState};
use crate::{ParseContext, Row, RowSource, convert};

/// The longest line we read, in bytes; longer ones are refused with a row error.
const MAX_LINE_BYTES: usize = 1 << 20;

/// A fact that JSON Lines files carry.
pub trait JsonFact: Sized {
    /// The request shape of one line.
    type Request: DeserializeOwned;
    /// Converts one line's request.
    fn from_request(
        request: &Self::Request,
        context: &ParseContext,
        state: &mut ReadState,
    ) -> Result<Self, FieldErrors>;
}

impl JsonFact for Store {
    type Request = StoreRequest;
    fn from_request(
        request: &StoreRequest,
        context: &ParseContext,
        _: &mut ReadState,
    ) -> Result<Self, FieldErrors> {
        convert::store(request, context)
    }
}

impl JsonFact for MemberProfile {
    type Request = MemberRequest;
    fn from_request(
        request: &MemberRequest,
        context: &ParseContext,
        _: &mut ReadState,
    ) -> Result<Self, FieldErrors> {
        convert::member(request, context)
    }
}

impl JsonFact for Order {
    type Request = OrderRequest;
    fn from_request(
        request: &OrderRequest,
        context: &ParseContext,
        _: &mut ReadState,
    ) -> Result<Self, FieldErrors> {
        convert::order(request, context)
    }
}

impl JsonFact for (OrderId, OrderLine) {
    type Request = OrderLineImportRequest;
    fn from_request(
        request: &OrderLineImportRequest,
        context: &ParseContext,
        state: &mut ReadState,
    ) -> Result<Self, FieldErrors> {
        let default_line_no = state.next_line_no(&request.order_id);
        convert::order_line(request, default_line_no, context.currency)
    }
}

impl JsonFact for NewReturn {
    type Request = ReturnRequest;
    fn from_request(
        request: &ReturnRequest,
        context: &ParseContext,
        _: &mut ReadState,
    ) -> Result<Self, FieldErrors> {
        convert::return_(request, context)
    }
}

impl JsonFact for Interaction {
    type Request = InteractionRequest;
    fn from_request(
        request: &InteractionRequest,
        context: &ParseContext,
        _: &mut ReadState,
    ) -> Result<Self, FieldErrors> {
        convert::interaction(request, context)
    }
}

impl JsonFact for BehaviourEvent {
    type Request = EventRequest;
    fn from_request(
        request: &EventRequest,
        context: &ParseContext,
        _: &mut ReadState,
    ) -> Result<Self, FieldErrors> {
        convert::event(request, context)
    }
}

/// A streaming reader of one JSON Lines file of `T`s.
pub struct JsonlSource<R: Read, T> {
    reader: BufReader<R>,
    buffer: Vec<u8>,
    line: u64,
    bytes: u64,
    context: ParseContext,
    state: ReadState,
    done: bool,
    _fact: PhantomData<fn() -> T>,
}

impl<R: Read, T: JsonFact> JsonlSource<R, T> {
    /// A reader over `reader`.
    pub fn new(reader: R, context: ParseContext) -> Self {
        Self {
            reader: BufReader::with_capacity(1 << 16, reader),
            buffer: Vec::new(),
            line: 0,
            bytes: 0,
            context,
            state: ReadState::default(),
            done: false,
            _fact: PhantomData,
        }
    }

    fn error(&self, reason: String) -> Row<T> {
        let mut errors = FieldErrors::default();
        errors.push(ROW_FIELD, reason);
        Row {
            line: self.line,
            result: Err(errors),
        }
    }
}

impl<R: Read + Send, T: JsonFact> RowSource<T> for JsonlSource<R, T> {
    fn next_row(&mut self) -> Option<Row<T>> {
        loop {
            if self.done {
                return None;
            }
            self.buffer.clear();
            let read = (&mut self.reader)
                .take(MAX_LINE_BYTES as u64 + 1)
                .read_until(b'\n', &mut self.buffer);
            let n = match read {
                Ok(0) => return None,
                Ok(n) => n,
                Err(error) => {
                    self.done = true;
                    self.line += 1;
                    return Some(self.error(format!("cannot be read: {error}")));
                }
            };
            self.line += 1;
            self.bytes += n as u64;
            if self.buffer.len() > MAX_LINE_BYTES && self.buffer.last() != Some(&b'\n') {
                // Skip the rest of the oversized line.
                let mut rest = Vec::new();
                while let Ok(m) = (&mut self.reader)
                    .take(1 << 16)
                    .read_until(b'\n', &mut rest)
                {
                    self.bytes += m as u64;
                    if m == 0 || rest.last() == Some(&b'\n') {
                        break;
                    }
                    rest.clear();
                }
                return Some(self.error(format!("is longer than {MAX_LINE_BYTES} bytes")));
            }
            let Ok(text) = std::str::from_utf8(&self.buffer) else {
                return Some(self.error("is not valid UTF-8".to_owned()));
            };
            let text = text.trim();
            if text.is_empty() {
                continue;
            }
            let result = match serde_json::from_str::<T::Request>(text) {
                Ok(request) => T::from_request(&request, &self.context, &mut self.state),
                Err(error) => {
                    let mut errors = FieldErrors::default();
                    errors.push(
                        ROW_FIELD,
                        format!("is not a valid JSON object of this kind: {error}"),
                    );
                    Err(errors)
                }
            };
            return Some(Row {
                line: self.line,
                result,
            });
        }
    }

    fn bytes_read(&self) -> u64 {
        self.bytes
    }
}
