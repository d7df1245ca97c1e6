//! Scores a Telco customer with a running `mlpipe serve` (plain HTTP/1.1 over a socket, no
//! client library), against the churn example's saved model:
//!
//! ```text
//! cargo run --release --example churn                      # saves target/churn_model
//! cargo run --release -p mlpipe-cli -- serve --model target/churn_model &
//! cargo run --example serve_client                         # -- [ADDR]
//! ```
//!
//! Prints GET /model's input fields, then POST /predict's answer for the first customer of
//! the bundled Telco file (7590-VHVEG) and for the same customer with an invalid tenure
//! (the server's 400 names the field).

use std::io::{Read, Write};
use std::net::TcpStream;

/// One request on its own connection; returns the status line and the body.
fn request(addr: &str, method: &str, path: &str, body: &str) -> std::io::Result<(String, String)> {
    let mut s = TcpStream::connect(addr)?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    let (head, body) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
    Ok((
        head.lines().next().unwrap_or("").to_string(),
        body.to_string(),
    ))
}

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let (status, model) = request(&addr, "GET", "/model", "")?;
    println!("GET /model -> {status}\n{model}\n");
    // The first customer of data/telco_churn/telco_customer_churn.csv (customerID
    // 7590-VHVEG); fields the model does not read (customerID) are ignored.
    let customer = r#"{
        "customerID": "7590-VHVEG", "gender": "Female", "SeniorCitizen": 0, "Partner": "Yes",
        "Dependents": "No", "tenure": 1, "PhoneService": "No",
        "MultipleLines": "No phone service", "InternetService": "DSL", "OnlineSecurity": "No",
        "OnlineBackup": "Yes", "DeviceProtection": "No", "TechSupport": "No",
        "StreamingTV": "No", "StreamingMovies": "No", "Contract": "Month-to-month",
        "PaperlessBilling": "Yes", "PaymentMethod": "Electronic check",
        "MonthlyCharges": 29.85, "TotalCharges": 29.85
    }"#;
    let (status, body) = request(&addr, "POST", "/predict", customer)?;
    println!("POST /predict -> {status}\n{body}\n");
    let bad = customer.replace("\"tenure\": 1", "\"tenure\": \"one\"");
    let (status, body) = request(&addr, "POST", "/predict", &bad)?;
    println!("POST /predict (tenure as a string) -> {status}\n{body}");
    Ok(())
}
