use super::*;

#[test]
fn declared_length_over_the_limit_is_refused_unread() {
    let mut headers = HeaderMap::new();
    assert_eq!(check_declared_length(&headers, 10), Ok(()));
    headers.insert(header::CONTENT_LENGTH, "10".parse().unwrap());
    assert_eq!(check_declared_length(&headers, 10), Ok(()));
    headers.insert(header::CONTENT_LENGTH, "11".parse().unwrap());
    assert_eq!(
        check_declared_length(&headers, 10),
        Err(BodyError::TooLarge { limit: 10 })
    );
}

#[tokio::test]
async fn streamed_bodies_stop_at_the_limit() {
    let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
        Ok(Bytes::from(vec![b'a'; 6])),
        Ok(Bytes::from(vec![b'b'; 6])),
    ];
    let budget = Arc::new(Semaphore::new(100));
    let body = Body::from_stream(futures::stream::iter(chunks));
    let got = read_limited(body, 10, Duration::from_secs(5), &budget).await;
    assert_eq!(got.err(), Some(BodyError::TooLarge { limit: 10 }));
    let body = Body::from(vec![b'a'; 10]);
    let got = read_limited(body, 10, Duration::from_secs(5), &budget).await;
    assert_eq!(got.map(|(b, _)| b.len()).ok(), Some(10));
}

#[tokio::test]
async fn bodies_share_one_budget_until_their_permits_drop() {
    let budget = Arc::new(Semaphore::new(3));
    let body = Body::from(vec![b'a'; 2 * BUDGET_UNIT]);
    let (_, held) = read_limited(body, 1 << 20, Duration::from_secs(5), &budget)
        .await
        .unwrap();
    assert_eq!(budget.available_permits(), 1);
    let body = Body::from(vec![b'b'; 2 * BUDGET_UNIT]);
    let got = read_limited(body, 1 << 20, Duration::from_secs(5), &budget).await;
    assert_eq!(got.err(), Some(BodyError::Busy));
    drop(held);
    let body = Body::from(vec![b'b'; 2 * BUDGET_UNIT]);
    assert!(read_limited(body, 1 << 20, Duration::from_secs(5), &budget)
        .await
        .is_ok());
}

#[tokio::test]
async fn a_body_that_never_ends_times_out() {
    let body = Body::from_stream(futures::stream::pending::<Result<Bytes, std::io::Error>>());
    let budget = Arc::new(Semaphore::new(100));
    let got = read_limited(body, 10, Duration::from_millis(50), &budget).await;
    assert_eq!(
        got.err(),
        Some(BodyError::Timeout(Duration::from_millis(50)))
    );
}
