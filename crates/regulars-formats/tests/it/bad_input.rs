//! Malformed rows are refused one by one, naming line, field and reason.

use regulars_domain::{BehaviourEvent, MemberProfile, Order, OrderId, OrderLine};
use regulars_formats::{CsvSource, FormatError, RowSource};

use crate::{context, read_csv};

#[test]
fn each_bad_order_row_names_its_line_field_and_reason_and_good_rows_survive() {
    let csv = "order_id,member_id,placed_at,amount,status\n\
               O1,M1,2024-03-01 09:30,123.45,paid\n\
               O2,M1,not a date,100,paid\n\
               O3,M1,2024-03-01,12x,paid\n\
               O4,M1,2024-03-01,-5,paid\n\
               O5,M1,2024-03-01,100\n\
               O6,M1,2024-03-01,100,lost\n\
               O7,,2024-03-01,100,paid\n\
               O8,M2,2024-03-02T10:00:00Z,1.234,completed\n\
               O9,M2,2024/3/2,\"1,200\",completed\n";
    let rows = read_csv::<Order>(csv.as_bytes());
    let outcomes: Vec<String> = rows
        .iter()
        .map(|row| match row {
            Ok(order) => format!("ok {} {}", order.order_id, order.amount),
            Err(error) => format!("error {error}"),
        })
        .collect();
    insta::assert_snapshot!(outcomes.join("\n"), @r"
    ok O1 123.45 TWD
    error 3 placed_at: `not a date` is not a date or time (use 2024-03-01, 2024-03-01 09:30 or an RFC 3339 instant)
    error 4 amount: `12x` is not a number
    error 5 amount: `-5` is negative
    error 6 (row): has 4 fields but the header has 5
    error 7 status: `lost` is not an order status (paid, completed or cancelled)
    error 8 member_id: is empty
    error 9 amount: `1.234` has more than 2 decimal places for TWD
    ok O9 1200.00 TWD
    ");
}

#[test]
fn bad_utf8_and_oversized_fields_are_refused_by_column() {
    let mut csv = b"member_id,name,region\nM1,\xff\xfe,Taipei\n".to_vec();
    csv.extend_from_slice(format!("M2,{},Taipei\nM3,Amy,Tainan\n", "x".repeat(5000)).as_bytes());
    let rows = read_csv::<MemberProfile>(&csv);
    assert_eq!(rows[0].as_ref().unwrap_err(), "2 name: is not valid UTF-8");
    assert_eq!(
        rows[1].as_ref().unwrap_err(),
        "3 name: is longer than 4096 bytes"
    );
    assert_eq!(rows[2].as_ref().unwrap().name.as_deref(), Some("Amy"));
}

#[test]
fn negative_quantities_and_bad_prices_in_order_lines_are_refused() {
    let csv =
        "order_id,sku,quantity,unit_price\nO1,LATTE,-2,120\nO1,MUFFIN,1,abc\nO1,BEANS,1,450\n";
    let rows = read_csv::<(OrderId, OrderLine)>(csv.as_bytes());
    assert_eq!(
        rows[0].as_ref().unwrap_err(),
        "2 quantity: -2 is not a whole number of at least 1"
    );
    assert_eq!(
        rows[1].as_ref().unwrap_err(),
        "3 unit_price: `abc` is not a number"
    );
    // Lines without numbers are numbered by their place among their order's rows.
    assert_eq!(rows[2].as_ref().unwrap().1.line_no, 3);
}

#[test]
fn a_missing_required_column_stops_the_file_before_any_row() {
    let error = CsvSource::<_, Order>::new(
        "order_id,member_id,amount\nO1,M1,100\n".as_bytes(),
        context(),
    )
    .err()
    .unwrap();
    assert!(matches!(error, FormatError::MissingColumns(ref c) if c == &["placed_at"]));
    assert_eq!(
        error.to_string(),
        "the header lacks the required column(s): placed_at"
    );
    let error = CsvSource::<_, Order>::new("".as_bytes(), context())
        .err()
        .unwrap();
    assert!(matches!(error, FormatError::Empty));
}

#[test]
fn headers_are_case_blind_accept_a_bom_and_report_unknown_columns() {
    let csv = "\u{feff}Member_ID, AT ,Kind,SKU,colour\nM1,2024-03-01,cart_add,LATTE,red\n";
    let source = CsvSource::<_, BehaviourEvent>::new(csv.as_bytes(), context()).unwrap();
    assert_eq!(source.ignored_columns(), ["colour"]);
    let rows = read_csv::<BehaviourEvent>(csv.as_bytes());
    assert_eq!(
        rows[0].as_ref().unwrap().sku.as_ref().unwrap().as_str(),
        "LATTE"
    );
}

#[test]
fn jsonl_rows_that_are_not_objects_of_the_kind_are_refused_by_line() {
    let text = "{\"order_id\":\"O1\",\"member_id\":\"M1\",\"placed_at\":\"2024-03-01\",\"amount\":100}\n\
                not json\n\
                \n\
                {\"order_id\":\"O2\",\"member_id\":\"M1\",\"placed_at\":\"2024-03-01\"}\n";
    let mut source = regulars_formats::JsonlSource::<_, Order>::new(text.as_bytes(), context());
    let first = source.next_row().unwrap();
    assert_eq!(first.result.unwrap().amount.minor(), 100);
    let second = source.next_row().unwrap();
    assert_eq!(second.line, 2);
    assert!(
        second.result.unwrap_err().0[0]
            .reason
            .contains("is not a valid JSON object")
    );
    let third = source.next_row().unwrap();
    assert_eq!(third.line, 4);
    assert!(
        third.result.unwrap_err().0[0]
            .reason
            .contains("missing field `amount`")
    );
    assert!(source.next_row().is_none());
}

#[test]
fn a_line_longer_than_a_mebibyte_stops_the_file_with_an_error_instead_of_filling_memory() {
    // An unterminated quote swallows everything after it into one "field".
    let mut text = b"member_id,name\nM1,Amy\nM2,\"".to_vec();
    text.extend(std::iter::repeat_n(b'x', 3 << 20));
    let mut source =
        CsvSource::<_, MemberProfile>::new(std::io::Cursor::new(text), context()).unwrap();
    assert_eq!(
        source.next_row().unwrap().result.unwrap().name.as_deref(),
        Some("Amy")
    );
    let broken = source.next_row().unwrap();
    let error = &broken.result.unwrap_err().0[0];
    assert_eq!(error.field, "(row)");
    assert!(
        error.reason.contains("longer than 1048576 bytes"),
        "{}",
        error.reason
    );
    assert!(source.next_row().is_none());
}
