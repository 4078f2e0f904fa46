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
