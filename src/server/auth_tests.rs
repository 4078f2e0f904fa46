use super::*;

fn status(auth: &ApiAuth, method: Method, header: Option<&str>) -> Option<StatusCode> {
    auth.check(&method, header.map(str::as_bytes))
        .map(|r| r.status())
}

#[test]
fn writes_need_the_token_reads_only_when_asked() {
    let open = ApiAuth::new(Some(b"t0ken"), false);
    assert_eq!(status(&open, Method::GET, None), None);
    assert_eq!(
        status(&open, Method::POST, None),
        Some(StatusCode::UNAUTHORIZED)
    );
    assert_eq!(
        status(&open, Method::POST, Some("Bearer wrong")),
        Some(StatusCode::UNAUTHORIZED)
    );
    assert_eq!(
        status(&open, Method::POST, Some("Basic t0ken")),
        Some(StatusCode::UNAUTHORIZED)
    );
    assert_eq!(status(&open, Method::POST, Some("Bearer t0ken")), None);
    let closed = ApiAuth::new(Some(b"t0ken"), true);
    assert_eq!(
        status(&closed, Method::GET, None),
        Some(StatusCode::UNAUTHORIZED)
    );
    assert_eq!(status(&closed, Method::GET, Some("Bearer t0ken")), None);
}

#[test]
fn without_a_token_the_api_is_read_only() {
    let none = ApiAuth::new(None, false);
    assert_eq!(status(&none, Method::GET, None), None);
    assert_eq!(
        status(&none, Method::POST, Some("Bearer anything")),
        Some(StatusCode::FORBIDDEN)
    );
    assert!(!format!("{:?}", ApiAuth::new(Some(b"t0ken"), false)).contains("t0ken"));
}

#[test]
fn pages_take_the_token_as_bearer_or_as_a_basic_password() {
    use base64::Engine as _;
    let basic = |userpass: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(userpass)
        )
    };
    let auth = ApiAuth::new(Some(b"t0ken"), true);
    let ok = |h: &str| auth.accepts_page_credentials(Some(h.as_bytes()));
    assert!(ok("Bearer t0ken"));
    assert!(ok(&basic("anyone:t0ken")));
    assert!(ok(&basic(":t0ken")));
    assert!(!ok(&basic("t0ken:wrong")));
    assert!(!ok(&basic("t0ken")), "no colon: no password");
    assert!(!ok("Basic not-base64!"));
    assert!(!auth.accepts_page_credentials(None));
    assert!(auth.accepts_token(b"t0ken"));
    assert!(!auth.accepts_token(b"t0ken "));
    assert!(!ApiAuth::new(None, false).accepts_token(b""));
}
