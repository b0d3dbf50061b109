//! The Biz API client against the Biz API emulator, over real HTTP on 127.0.0.1.
#![cfg(feature = "biz-emulator")]

use std::time::Duration;

use futures_util::TryStreamExt;
use nugu_proxy::biz::emulator::{Edition, Emulator, EmulatorError, Fault, ManualClock, PlayStatus};
use nugu_proxy::biz::{
    BizClient, BizError, CancelScope, ErrorCode, GroupId, GroupRequest, InvitationId,
    InvitationRequest, InvitationStatus, InvitationTarget, Invitee, Page, PublisherToken,
    RetryPolicy, Sensitive, ServiceType, UserId, UserUpdate,
};

const TOKEN: &str = "publisher-token-for-tests-0123";
const PLAY: &str = "com.example.orders";
const PLAY2: &str = "com.example.stock";
const PLAY_OFF: &str = "com.example.retired";
const PLAY_FOREIGN: &str = "com.other.play";

async fn emulator_with(edition: Edition, clock: Option<ManualClock>) -> Emulator {
    let mut builder = Emulator::builder().token(TOKEN).edition(edition);
    if let Some(clock) = clock {
        builder = builder.clock(clock);
    }
    let emulator = builder.start().await.unwrap();
    emulator.add_play(PLAY);
    emulator.add_play(PLAY2);
    emulator.set_play(PLAY_OFF, PlayStatus::NotInService);
    emulator.set_play(PLAY_FOREIGN, PlayStatus::OtherPublisher);
    emulator
}

async fn setup() -> (Emulator, BizClient) {
    let emulator = emulator_with(Edition::Trial, None).await;
    let client = emulator.client_builder().build().unwrap();
    (emulator, client)
}

/// A client that sends invalid requests, to see the emulator's own answers.
fn unchecked(emulator: &Emulator) -> BizClient {
    emulator
        .client_builder()
        .validate_before_sending(false)
        .build()
        .unwrap()
}

fn person(n: usize) -> Invitee {
    Invitee::new(
        format!("user{n}@example.com"),
        format!("사용자{n}"),
        format!("010{n:08}"),
    )
}

fn to_plays(users: Vec<Invitee>) -> InvitationRequest {
    InvitationRequest::new(InvitationTarget::Plays(vec![PLAY.into()]), users)
}

fn code(result: Result<impl std::fmt::Debug, BizError>) -> ErrorCode {
    match result {
        Err(BizError::Api(code)) => code,
        other => panic!("expected a 400 errorCode, got {other:?}"),
    }
}

fn precheck(result: Result<impl std::fmt::Debug, BizError>) -> (ErrorCode, String) {
    match result {
        Err(BizError::Invalid { code, field }) => (code, field),
        other => panic!("expected a pre-send refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn groups_are_created_listed_paged_updated_and_deleted() {
    let (emulator, client) = setup().await;
    let group = client
        .create_group(
            &GroupRequest::new("Store staff")
                .alias("stores")
                .play_service_ids([PLAY]),
        )
        .await
        .unwrap();
    assert_eq!(group.name, "Store staff");
    assert_eq!(group.alias.as_deref(), Some("stores"));
    assert_eq!(group.play_service_ids, [PLAY]);
    assert!(group.token.as_ref().is_some_and(|t| !t.expose().is_empty()));

    // 401 for a taken name, on create and on update.
    let taken = client.create_group(&GroupRequest::new("Store staff")).await;
    assert!(matches!(taken, Err(BizError::NameTaken)), "{taken:?}");
    let other = client
        .create_group(&GroupRequest::new("Office"))
        .await
        .unwrap();
    let renamed = client
        .update_group(&other.id, &GroupRequest::new("Store staff"))
        .await;
    assert!(matches!(renamed, Err(BizError::NameTaken)), "{renamed:?}");

    // Update replaces name, alias and plays; keeping its own name is no conflict.
    let updated = client
        .update_group(
            &group.id,
            &GroupRequest::new("Store staff").play_service_ids([PLAY, PLAY2]),
        )
        .await
        .unwrap();
    assert_eq!(updated.play_service_ids, [PLAY, PLAY2]);
    assert_eq!(updated.alias, None);
    let detail = client.group(&group.id).await.unwrap();
    assert_eq!(detail.id.as_ref(), Some(&group.id));
    assert_eq!(detail.play_service_ids, [PLAY, PLAY2]);
    assert!(detail.users.is_empty());

    for n in 0..3 {
        client
            .create_group(&GroupRequest::new(format!("Shop {n}")))
            .await
            .unwrap();
    }
    let page = client.list_groups(Page::new(3).size(2)).await.unwrap();
    assert_eq!((page.total_pages, page.total_elements), (3, 5));
    assert_eq!(page.groups.len(), 1);
    assert_eq!(page.groups[0].name, "Shop 2");
    assert_eq!(page.groups[0].play_count, 0);
    let all: Vec<_> = client.groups(2).try_collect().await.unwrap();
    let names: Vec<_> = all.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(
        names,
        ["Store staff", "Office", "Shop 0", "Shop 1", "Shop 2"]
    );
    assert!(all[0].created_date_time.as_ref().unwrap().civil().is_some());

    client.delete_group(&other.id).await.unwrap();
    assert!(matches!(
        client.group(&other.id).await,
        Err(BizError::NotFound)
    ));
    assert!(matches!(
        client.delete_group(&other.id).await,
        Err(BizError::NotFound)
    ));
    let missing = client
        .update_group(&other.id, &GroupRequest::new("x"))
        .await;
    assert!(matches!(missing, Err(BizError::NotFound)), "{missing:?}");
    assert_eq!(
        client
            .groups(50)
            .try_collect::<Vec<_>>()
            .await
            .unwrap()
            .len(),
        4
    );
    assert!(emulator.requests_received() > 10);
}

#[tokio::test]
async fn group_rules_are_caught_before_sending_with_the_apis_codes() {
    let (emulator, client) = setup().await;
    let long = "가".repeat(101);
    let cases = [
        (GroupRequest::new(""), ErrorCode::Group002, "name"),
        (GroupRequest::new("  "), ErrorCode::Group002, "name"),
        (GroupRequest::new(long.clone()), ErrorCode::Group002, "name"),
        (
            GroupRequest::new("ok").alias(long.clone()),
            ErrorCode::Group003,
            "alias",
        ),
        (
            GroupRequest::new("ok").play_service_ids(["a", ""]),
            ErrorCode::Play001,
            "playServiceIds[1]",
        ),
    ];
    let unchecked = unchecked(&emulator);
    for (request, expected, field) in cases {
        let before = emulator.requests_received();
        let (got, at) = precheck(client.create_group(&request).await);
        assert_eq!((&got, at.as_str()), (&expected, field));
        assert_eq!(emulator.requests_received(), before, "nothing was sent");
        // The emulator answers the same code when the request does reach it.
        assert_eq!(code(unchecked.create_group(&request).await), expected);
    }
    // Exactly 100 is allowed.
    client
        .create_group(&GroupRequest::new("나".repeat(100)).alias("a".repeat(100)))
        .await
        .unwrap();
    // What only the API can know: unknown play, not in service, another publisher's.
    for (play, expected) in [
        ("com.example.unknown", ErrorCode::Play001),
        (PLAY_OFF, ErrorCode::Play002),
        (PLAY_FOREIGN, ErrorCode::Play003),
    ] {
        let request = GroupRequest::new(format!("g {play}")).play_service_ids([play]);
        assert_eq!(code(client.create_group(&request).await), expected);
    }
}

#[tokio::test]
async fn a_wrong_publisher_token_is_403_on_every_endpoint() {
    let (emulator, _) = setup().await;
    let client = BizClient::builder(PublisherToken::new("not-the-token"))
        .base_url(emulator.base_url())
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let g = GroupId::from("G1");
    let u = UserId::from("U1");
    let results: Vec<Result<(), BizError>> = vec![
        client.create_group(&GroupRequest::new("a")).await.map(drop),
        client
            .update_group(&g, &GroupRequest::new("a"))
            .await
            .map(drop),
        client.delete_group(&g).await,
        client.list_groups(Page::first()).await.map(drop),
        client.group(&g).await.map(drop),
        client.unassigned_users().await.map(drop),
        client.invite(&to_plays(vec![person(1)])).await.map(drop),
        client.invitations().await.map(drop),
        client
            .cancel_invitation(InvitationId(1), &CancelScope::AllPending)
            .await
            .map(drop),
        client.list_users(Page::first()).await.map(drop),
        client.user(&u).await.map(drop),
        client
            .update_user(&u, &UserUpdate::new("a"))
            .await
            .map(drop),
        client.delete_user(&u).await,
    ];
    assert_eq!(results.len(), 13);
    for result in results {
        assert!(matches!(result, Err(BizError::Forbidden)), "{result:?}");
    }
    assert_eq!(emulator.requests_received(), 13);
}

#[tokio::test]
async fn invitation_rules_are_caught_before_sending_and_answered_by_the_emulator() {
    let (emulator, client) = setup().await;
    let unchecked = unchecked(&emulator);
    let ok = person(1);
    let with = |f: &dyn Fn(&mut Invitee)| {
        let mut invitee = ok.clone();
        f(&mut invitee);
        to_plays(vec![invitee])
    };
    let cases: Vec<(InvitationRequest, ErrorCode, &str)> = vec![
        (
            to_plays(vec![ok.clone()]).reason("x".repeat(401)),
            ErrorCode::User006,
            "reason",
        ),
        (
            InvitationRequest::new(InvitationTarget::Plays(vec![]), vec![ok.clone()]),
            ErrorCode::Play001,
            "targetPlayServiceIds",
        ),
        (
            InvitationRequest::new(
                InvitationTarget::Plays(vec!["p".repeat(101)]),
                vec![ok.clone()],
            ),
            ErrorCode::Play001,
            "targetPlayServiceIds[0]",
        ),
        (
            InvitationRequest::new(
                InvitationTarget::Group(GroupId::from("g".repeat(101))),
                vec![ok.clone()],
            ),
            ErrorCode::Group001,
            "targetGroupId",
        ),
        (to_plays(vec![]), ErrorCode::User001, "users"),
        (
            with(&|i| i.email = Sensitive::from("")),
            ErrorCode::User001,
            "users[0].email",
        ),
        (
            with(&|i| i.email = Sensitive::from("no-at-sign")),
            ErrorCode::User001,
            "users[0].email",
        ),
        (
            with(&|i| i.email = Sensitive::new(format!("{}@example.com", "a".repeat(340)))),
            ErrorCode::User001,
            "users[0].email",
        ),
        (
            with(&|i| i.name = Sensitive::from(" ")),
            ErrorCode::User002,
            "users[0].name",
        ),
        (
            with(&|i| i.name = Sensitive::new("n".repeat(101))),
            ErrorCode::User002,
            "users[0].name",
        ),
        (
            with(&|i| i.phone = Sensitive::from("")),
            ErrorCode::User005,
            "users[0].phone",
        ),
        (
            with(&|i| i.phone = Sensitive::from("010-1234-5678")),
            ErrorCode::User005,
            "users[0].phone",
        ),
        (
            with(&|i| i.phone = Sensitive::from("0101234567890")),
            ErrorCode::User005,
            "users[0].phone",
        ),
        (
            with(&|i| i.phone = Sensitive::from("0101")),
            ErrorCode::User005,
            "users[0].phone",
        ),
        (
            with(&|i| i.alias = Some(Sensitive::new("a".repeat(101)))),
            ErrorCode::User003,
            "users[0].alias",
        ),
        (
            to_plays(vec![ok.clone(), person(2), {
                let mut again = ok.clone();
                again.email = Sensitive::from("USER1@example.com");
                again
            }]),
            ErrorCode::User004,
            "users[2].email",
        ),
    ];
    for (request, expected, field) in cases {
        let before = emulator.requests_received();
        let (got, at) = precheck(client.invite(&request).await);
        assert_eq!((&got, at.as_str()), (&expected, field));
        assert_eq!(emulator.requests_received(), before, "nothing was sent");
        assert_eq!(code(unchecked.invite(&request).await), expected, "{field}");
    }

    // What only the API can know.
    let empty_group = client
        .create_group(&GroupRequest::new("empty"))
        .await
        .unwrap();
    let api_cases = [
        (
            InvitationTarget::Plays(vec!["com.example.unknown".into()]),
            ErrorCode::Play001,
        ),
        (
            InvitationTarget::Plays(vec![PLAY_OFF.into()]),
            ErrorCode::Play002,
        ),
        (
            InvitationTarget::Plays(vec![PLAY_FOREIGN.into()]),
            ErrorCode::Play003,
        ),
        (
            InvitationTarget::Group(GroupId::from("G999999")),
            ErrorCode::Group001,
        ),
        (
            InvitationTarget::Group(empty_group.id.clone()),
            ErrorCode::Group005,
        ),
    ];
    for (target, expected) in api_cases {
        let request = InvitationRequest::new(target, vec![ok.clone()]);
        assert_eq!(code(client.invite(&request).await), expected);
    }
    emulator.set_biz_kit_info(false);
    assert_eq!(
        code(client.invite(&to_plays(vec![ok.clone()])).await),
        ErrorCode::Pub001
    );
    emulator.set_biz_kit_info(true);
    assert!(
        client.invitations().await.unwrap().is_empty(),
        "nothing was invited"
    );
}

#[tokio::test]
async fn the_emulator_refuses_both_targets_unreadable_bodies_and_other_media_types() {
    let (emulator, _) = setup().await;
    let http = reqwest::Client::new();
    let url = format!("{}/api/v1/enrolledUser/invitation", emulator.base_url());
    let post = |body: &'static str, content_type: &'static str| {
        http.post(&url)
            .header("Publisher-Token", TOKEN)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let both = r#"{"targetPlayServiceIds":["com.example.orders"],"targetGroupId":"G1",
        "users":[{"email":"a@example.com","name":"A","phone":"01012345678"}]}"#;
    let response = post(both, "application/json").await.unwrap();
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"errorCode": "GROUP004"}));

    let response = post(both, "text/plain").await.unwrap();
    assert_eq!(response.status(), 415);
    assert!(
        response.bytes().await.unwrap().is_empty(),
        "no body but on 400"
    );

    // Every 400 carries an errorCode; the pages name none for an unreadable body.
    let response = post("{not json", "application/json").await.unwrap();
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"errorCode": "INVALID_REQUEST"}));
}

#[tokio::test]
async fn reinviting_an_email_updates_its_name_and_alias() {
    let (emulator, client) = setup().await;
    let first = client
        .invite(&to_plays(vec![person(1).alias("E-1"), person(2)]).reason("주문 앱"))
        .await
        .unwrap();
    let mut renamed = person(1).alias("E-100");
    renamed.name = Sensitive::from("새이름");
    let second = client.invite(&to_plays(vec![renamed])).await.unwrap();
    assert_ne!(first, second);

    let invitations = client.invitations().await.unwrap();
    assert_eq!(invitations.len(), 2);
    let old = invitations.iter().find(|i| i.id == first).unwrap();
    assert_eq!(old.cause.as_deref(), Some("주문 앱"));
    assert_eq!(old.target_play_service_ids, [PLAY]);
    assert_eq!(old.users.len(), 1, "user1 moved to the new invitation");
    assert_eq!(old.users[0].email.expose(), "user2@example.com");
    let new = invitations.iter().find(|i| i.id == second).unwrap();
    let user1 = &new.users[0];
    assert_eq!(user1.name.as_ref().unwrap().expose(), "새이름");
    assert_eq!(user1.alias.as_ref().unwrap().expose(), "E-100");
    assert_eq!(user1.status, Some(InvitationStatus::Enable));
    assert!(new.created_date.as_ref().unwrap().civil().is_some());

    // The accepted user carries the new name and alias to NUGU.
    emulator.accept_invitation("user1@example.com").unwrap();
    let profile = emulator
        .private_play_profile("user1@example.com", PLAY, "NU200_1")
        .unwrap();
    assert_eq!(profile["enrolledUser"]["name"], "새이름");
    assert_eq!(profile["enrolledUser"]["tag"], "E-100");
}

#[tokio::test]
async fn users_invited_into_a_group_get_its_plays_and_are_listed() {
    let (emulator, client) = setup().await;
    let group = client
        .create_group(&GroupRequest::new("Stores").play_service_ids([PLAY2]))
        .await
        .unwrap();
    client
        .invite(&InvitationRequest::new(
            InvitationTarget::Group(group.id.clone()),
            vec![person(1).alias("E-1")],
        ))
        .await
        .unwrap();
    client.invite(&to_plays(vec![person(2)])).await.unwrap();
    let in_group = emulator.accept_invitation("USER1@example.com").unwrap();
    let unassigned = emulator.accept_invitation("user2@example.com").unwrap();
    assert!(
        client.invitations().await.unwrap().is_empty(),
        "both accepted"
    );

    let detail = client.user(&in_group).await.unwrap();
    assert_eq!(detail.email.as_ref().unwrap().expose(), "user1@example.com");
    assert_eq!(detail.phone.as_ref().unwrap().expose(), "01000000001");
    assert_eq!(detail.group.as_ref().unwrap().id, group.id);
    assert_eq!(detail.service_type, Some(ServiceType::Play));
    assert_eq!(detail.token, None, "PLAY users have no token");
    let plays: Vec<_> = detail
        .plays
        .iter()
        .map(|p| p.play_service_id.as_str())
        .collect();
    assert_eq!(plays, [PLAY2], "the group's plays, not the invitation's");
    assert!(emulator
        .private_play_profile("user1@example.com", PLAY2, "d")
        .is_ok());
    assert_eq!(
        emulator
            .private_play_profile("user1@example.com", PLAY, "d")
            .unwrap_err(),
        EmulatorError::NotEntitled
    );

    let group_detail = client.group(&group.id).await.unwrap();
    assert_eq!(group_detail.users.len(), 1);
    assert_eq!(group_detail.users[0].id, in_group);
    let none = client.unassigned_users().await.unwrap();
    assert_eq!((none.id.as_ref(), none.token.as_ref()), (None, None));
    assert_eq!(none.users.len(), 1);
    assert_eq!(none.users[0].id, unassigned);
    let groups = client.list_groups(Page::first()).await.unwrap();
    assert_eq!(groups.unmapped_user_count, 1);
    assert_eq!(groups.groups[0].user_count, 1);

    let users = client.list_users(Page::first().size(1)).await.unwrap();
    assert_eq!(
        (users.total_pages, users.total_elements, users.users.len()),
        (2, 2, 1)
    );
    let all: Vec<_> = client.users(1).try_collect().await.unwrap();
    let ids: Vec<_> = all.iter().map(|u| u.id.clone()).collect();
    assert_eq!(ids, [in_group.clone(), unassigned.clone()]);
    assert!(all[0]
        .accepted_date_time
        .as_ref()
        .unwrap()
        .civil()
        .is_some());

    // A group's plays follow the group; deleting it leaves its users unassigned.
    client
        .update_group(
            &group.id,
            &GroupRequest::new("Stores").play_service_ids([PLAY, PLAY2]),
        )
        .await
        .unwrap();
    assert_eq!(client.user(&in_group).await.unwrap().plays.len(), 2);
    client.delete_group(&group.id).await.unwrap();
    let moved = client.user(&in_group).await.unwrap();
    assert_eq!(moved.group, None);
    assert_eq!(client.unassigned_users().await.unwrap().users.len(), 2);
}

#[tokio::test]
async fn users_are_updated_moved_and_deleted() {
    let (emulator, client) = setup().await;
    let group = client
        .create_group(&GroupRequest::new("Stores").play_service_ids([PLAY2]))
        .await
        .unwrap();
    client.invite(&to_plays(vec![person(1)])).await.unwrap();
    let id = emulator.accept_invitation("user1@example.com").unwrap();

    let updated = client
        .update_user(&id, &UserUpdate::new("김영희").alias("E-7"))
        .await
        .unwrap();
    assert_eq!(updated.id, id);
    assert_eq!(updated.name.unwrap().expose(), "김영희");
    assert_eq!(updated.alias.unwrap().expose(), "E-7");
    assert_eq!(updated.email.unwrap().expose(), "user1@example.com");

    // Errors: pre-send and from the emulator.
    let (c, _) = precheck(client.update_user(&id, &UserUpdate::new("")).await);
    assert_eq!(c, ErrorCode::User002);
    let (c, _) = precheck(
        client
            .update_user(&id, &UserUpdate::new("a").alias("x".repeat(101)))
            .await,
    );
    assert_eq!(c, ErrorCode::User003);
    let unchecked = unchecked(&emulator);
    assert_eq!(
        code(unchecked.update_user(&id, &UserUpdate::new("")).await),
        ErrorCode::User002
    );
    assert_eq!(
        code(
            unchecked
                .update_user(&id, &UserUpdate::new("a").alias("x".repeat(101)))
                .await
        ),
        ErrorCode::User003
    );
    let nowhere = UserUpdate::new("a").move_to(GroupId::from("G404"));
    assert_eq!(
        code(client.update_user(&id, &nowhere).await),
        ErrorCode::Group001
    );
    emulator.set_biz_kit_info(false);
    assert_eq!(
        code(client.update_user(&id, &UserUpdate::new("a")).await),
        ErrorCode::User008
    );
    emulator.set_biz_kit_info(true);
    let ghost = UserId::from("U404");
    assert!(matches!(
        client.update_user(&ghost, &UserUpdate::new("a")).await,
        Err(BizError::NotFound)
    ));
    assert!(matches!(client.user(&ghost).await, Err(BizError::NotFound)));

    // A PLAY user is re-invited into the group and moves when they accept.
    let moved = client
        .update_user(&id, &UserUpdate::new("김영희").move_to(group.id.clone()))
        .await
        .unwrap();
    assert_eq!(moved.target_group_id.as_ref(), Some(&group.id));
    assert_eq!(
        client.user(&id).await.unwrap().group,
        None,
        "not before consent"
    );
    let pending = client.invitations().await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].target_group_id.as_ref(), Some(&group.id));
    assert_eq!(
        emulator.accept_invitation("user1@example.com").unwrap(),
        id,
        "same user"
    );
    let after = client.user(&id).await.unwrap();
    assert_eq!(after.group.unwrap().id, group.id);
    assert_eq!(after.name.unwrap().expose(), "김영희");

    client.delete_user(&id).await.unwrap();
    assert!(matches!(client.user(&id).await, Err(BizError::NotFound)));
    assert!(matches!(
        client.delete_user(&id).await,
        Err(BizError::NotFound)
    ));
    assert_eq!(
        emulator
            .private_play_profile("user1@example.com", PLAY, "d")
            .unwrap_err(),
        EmulatorError::NotEnrolled
    );
}

#[tokio::test]
async fn full_edition_users_move_at_once_and_carry_a_token_to_nugu() {
    let emulator = emulator_with(Edition::Full, None).await;
    let client = emulator.client_builder().build().unwrap();
    let group = client
        .create_group(&GroupRequest::new("Stores").play_service_ids([PLAY2]))
        .await
        .unwrap();
    client.invite(&to_plays(vec![person(1)])).await.unwrap();
    let id = emulator.accept_invitation("user1@example.com").unwrap();
    let detail = client.user(&id).await.unwrap();
    assert_eq!(detail.service_type, Some(ServiceType::Service));
    assert_eq!(detail.service_agree_yn, Some(true));
    let token = detail.token.unwrap();
    client
        .update_user(&id, &UserUpdate::new("사용자1").move_to(group.id.clone()))
        .await
        .unwrap();
    assert_eq!(client.user(&id).await.unwrap().group.unwrap().id, group.id);
    let profile = emulator
        .private_play_profile("user1@example.com", PLAY2, "NU200_9")
        .unwrap();
    assert_eq!(profile["enrolledUser"]["userToken"], token.expose());
    assert_eq!(profile["enrolledUser"]["serviceType"], "SERVICE");
    assert_eq!(profile["deviceUniqueId"], "NU200_9");
    assert!(profile["userKey"].as_str().unwrap().starts_with("user.0."));
    assert!(profile["deviceKey"]
        .as_str()
        .unwrap()
        .starts_with("device.0."));
    let typed = emulator
        .private_play("user1@example.com", PLAY2, "NU200_9")
        .unwrap();
    let user = typed.enrolled_user().unwrap();
    assert_eq!(
        (user.email(), user.phone_no()),
        (Some("user1@example.com"), Some("01000000001"))
    );
    assert_eq!(user.service_type(), Some(&ServiceType::Service));

    // No trial limit in the full edition.
    let many: Vec<_> = (2..=15).map(person).collect();
    client.invite(&to_plays(many)).await.unwrap();
}

#[tokio::test]
async fn cancel_works_only_for_pending_invitees() {
    let (emulator, client) = setup().await;
    let id = client
        .invite(&to_plays(vec![person(1), person(2), person(3)]))
        .await
        .unwrap();
    emulator.accept_invitation("user1@example.com").unwrap();

    let cancelled = client
        .cancel_invitation(id, &CancelScope::Emails(vec!["user2@example.com".into()]))
        .await
        .unwrap();
    assert_eq!(cancelled, [Sensitive::from("user2@example.com")]);
    assert_eq!(
        emulator.accept_invitation("user2@example.com").unwrap_err(),
        EmulatorError::NoPendingInvitation
    );
    let accepted = client
        .cancel_invitation(id, &CancelScope::Emails(vec!["user1@example.com".into()]))
        .await;
    assert!(
        matches!(accepted, Err(BizError::NotAcceptable)),
        "{accepted:?}"
    );
    let again = client
        .cancel_invitation(id, &CancelScope::Emails(vec!["user2@example.com".into()]))
        .await;
    assert!(matches!(again, Err(BizError::NotFound)), "{again:?}");
    let stranger = client
        .cancel_invitation(id, &CancelScope::Emails(vec!["nobody@example.com".into()]))
        .await;
    assert!(matches!(stranger, Err(BizError::NotFound)), "{stranger:?}");

    // All pending: only user3 is left.
    let rest = client
        .cancel_invitation(id, &CancelScope::AllPending)
        .await
        .unwrap();
    assert_eq!(rest, [Sensitive::from("user3@example.com")]);
    let none_left = client.cancel_invitation(id, &CancelScope::AllPending).await;
    assert!(
        matches!(none_left, Err(BizError::NotAcceptable)),
        "{none_left:?}"
    );
    let unknown = client
        .cancel_invitation(InvitationId(9999), &CancelScope::AllPending)
        .await;
    assert!(matches!(unknown, Err(BizError::NotFound)), "{unknown:?}");
    let (c, field) = precheck(
        client
            .cancel_invitation(id, &CancelScope::Emails(vec![]))
            .await,
    );
    assert_eq!((c, field.as_str()), (ErrorCode::User001, "users"));
    assert!(client.invitations().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_trial_publisher_holds_at_most_ten_users_pending_and_enrolled_together() {
    let (emulator, client) = setup().await;
    let id = client
        .invite(&to_plays((1..=6).map(person).collect()))
        .await
        .unwrap();
    for n in 1..=3 {
        emulator
            .accept_invitation(&format!("user{n}@example.com"))
            .unwrap();
    }
    client
        .invite(&to_plays((7..=10).map(person).collect()))
        .await
        .unwrap();
    // 3 enrolled + 7 pending = 10: one more is USER007, and nothing of it is recorded.
    assert_eq!(
        code(client.invite(&to_plays(vec![person(11)])).await),
        ErrorCode::User007
    );
    assert_eq!(
        code(client.invite(&to_plays(vec![person(1), person(11)])).await),
        ErrorCode::User007
    );
    // Re-inviting people already counted adds nobody.
    client
        .invite(&to_plays(vec![person(1), person(10)]))
        .await
        .unwrap();
    // Cancelling one pending invitee frees a place.
    client
        .cancel_invitation(id, &CancelScope::Emails(vec!["user4@example.com".into()]))
        .await
        .unwrap();
    client.invite(&to_plays(vec![person(11)])).await.unwrap();
    assert_eq!(
        code(client.invite(&to_plays(vec![person(12)])).await),
        ErrorCode::User007
    );
    // So does a user revoking the permission.
    emulator.revoke("user2@example.com").unwrap();
    client.invite(&to_plays(vec![person(12)])).await.unwrap();
    // Counted once each: user1 is enrolled and re-invited (pending) at the same time.
    let invitations = client.invitations().await.unwrap();
    let pending = invitations
        .iter()
        .flat_map(|i| i.users.iter().map(|u| u.email.clone()));
    let users = client.list_users(Page::first()).await.unwrap().users;
    let enrolled = users.iter().map(|u| u.email.clone().unwrap());
    let distinct: std::collections::HashSet<_> = pending.chain(enrolled).collect();
    assert_eq!(distinct.len(), 10);
}

#[tokio::test]
async fn an_invitation_expires_after_72_hours() {
    let clock = ManualClock::default();
    let emulator = emulator_with(Edition::Trial, Some(clock.clone())).await;
    let client = emulator.client_builder().build().unwrap();
    client
        .invite(&to_plays(vec![person(1), person(2)]))
        .await
        .unwrap();
    client
        .invite(&to_plays((3..=10).map(person).collect()))
        .await
        .unwrap();

    clock.advance(Duration::from_secs(72 * 3600));
    emulator.accept_invitation("user1@example.com").unwrap(); // exactly 72 h: still valid
    clock.advance(Duration::from_secs(1));
    assert_eq!(
        emulator.accept_invitation("user2@example.com").unwrap_err(),
        EmulatorError::InvitationExpired
    );
    let invitations = client.invitations().await.unwrap();
    let statuses: Vec<_> = invitations
        .iter()
        .flat_map(|i| i.users.iter().map(|u| u.status.clone()))
        .collect();
    assert_eq!(statuses.len(), 9);
    assert!(
        statuses
            .iter()
            .all(|s| *s == Some(InvitationStatus::Disable)),
        "{statuses:?}"
    );
    // Expired invitations no longer count against the limit (1 enrolled user).
    client
        .invite(&to_plays((11..=19).map(person).collect()))
        .await
        .unwrap();
    // Sending it again restores it.
    assert_eq!(
        code(client.invite(&to_plays(vec![person(2)])).await),
        ErrorCode::User007
    );
    client
        .cancel_invitation(
            client.invitations().await.unwrap().last().unwrap().id,
            &CancelScope::Emails(vec!["user19@example.com".into()]),
        )
        .await
        .unwrap();
    client.invite(&to_plays(vec![person(2)])).await.unwrap();
    emulator.accept_invitation("user2@example.com").unwrap();
}

#[tokio::test]
async fn a_revoked_user_needs_a_new_invitation() {
    let (emulator, client) = setup().await;
    client.invite(&to_plays(vec![person(1)])).await.unwrap();
    emulator.accept_invitation("user1@example.com").unwrap();
    assert!(emulator
        .private_play_profile("user1@example.com", PLAY, "d")
        .is_ok());
    emulator.revoke("user1@example.com").unwrap();
    assert_eq!(
        emulator.revoke("user1@example.com").unwrap_err(),
        EmulatorError::NotEnrolled
    );
    assert_eq!(
        emulator
            .private_play_profile("user1@example.com", PLAY, "d")
            .unwrap_err(),
        EmulatorError::NotEnrolled
    );
    assert_eq!(
        client
            .list_users(Page::first())
            .await
            .unwrap()
            .total_elements,
        0
    );
    assert_eq!(
        emulator.accept_invitation("user1@example.com").unwrap_err(),
        EmulatorError::NoPendingInvitation
    );
    client.invite(&to_plays(vec![person(1)])).await.unwrap();
    emulator.accept_invitation("user1@example.com").unwrap();
    assert!(emulator
        .private_play_profile("user1@example.com", PLAY, "d")
        .is_ok());
}

#[tokio::test]
async fn idempotent_calls_are_retried_after_5xx_and_timeouts_but_invitations_are_not() {
    let (emulator, _) = setup().await;
    let client = emulator
        .client_builder()
        .retry(RetryPolicy::new(2).backoff(Duration::from_millis(10), Duration::from_millis(20)))
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let status = |s: u16| Fault::Status(http::StatusCode::from_u16(s).unwrap());

    emulator.inject_faults([status(503), status(500)]);
    client.list_groups(Page::first()).await.unwrap();
    assert_eq!(emulator.requests_received(), 3);

    emulator.inject_faults([status(502), status(502), status(502)]);
    let exhausted = client.invitations().await;
    assert!(
        matches!(exhausted, Err(BizError::Server { status: 502 })),
        "{exhausted:?}"
    );
    assert_eq!(emulator.requests_received(), 6);

    emulator.inject_faults([status(503)]);
    let post = client.invite(&to_plays(vec![person(1)])).await;
    assert!(
        matches!(post, Err(BizError::Server { status: 503 })),
        "{post:?}"
    );
    assert_eq!(emulator.requests_received(), 7, "POST is not retried");
    assert!(client.invitations().await.unwrap().is_empty());

    emulator.inject_faults([Fault::Delay(Duration::from_secs(3))]);
    client.list_users(Page::first()).await.unwrap();
    assert_eq!(
        emulator.requests_received(),
        10,
        "timed out once, then retried"
    );

    emulator.inject_faults([Fault::Delay(Duration::from_secs(3))]);
    let slow = client.create_group(&GroupRequest::new("slow")).await;
    assert!(matches!(slow, Err(BizError::Timeout(_))), "{slow:?}");

    emulator.inject_faults([status(415), status(404), status(418)]);
    let cases = [
        client.list_users(Page::first()).await.map(drop),
        client.list_users(Page::first()).await.map(drop),
        client.list_users(Page::first()).await.map(drop),
    ];
    assert!(
        matches!(cases[0], Err(BizError::UnsupportedMediaType)),
        "{:?}",
        cases[0]
    );
    assert!(
        matches!(cases[1], Err(BizError::NotFound)),
        "{:?}",
        cases[1]
    );
    assert!(
        matches!(cases[2], Err(BizError::UnexpectedStatus { status: 418 })),
        "{:?}",
        cases[2]
    );
}

#[tokio::test]
async fn ids_that_cannot_name_anything_are_not_found_without_a_request() {
    let (emulator, client) = setup().await;
    client
        .create_group(&GroupRequest::new("g").play_service_ids([PLAY]))
        .await
        .unwrap();
    for id in ["", " ", ".", ".."] {
        let group = client.group(&GroupId::from(id)).await;
        assert!(
            matches!(group, Err(BizError::NotFound)),
            "{id:?}: {group:?}"
        );
        let deleted = client.delete_group(&GroupId::from(id)).await;
        assert!(matches!(deleted, Err(BizError::NotFound)), "{id:?}");
        let user = client.user(&UserId::from(id)).await;
        assert!(matches!(user, Err(BizError::NotFound)), "{id:?}");
        let updated = client
            .update_user(&UserId::from(id), &UserUpdate::new("a"))
            .await;
        assert!(matches!(updated, Err(BizError::NotFound)), "{id:?}");
    }
    assert_eq!(emulator.requests_received(), 1);
    // A slash inside an id stays inside its segment.
    let odd = client.group(&GroupId::from("a/../../user")).await;
    assert!(matches!(odd, Err(BizError::NotFound)), "{odd:?}");
    assert_eq!(
        client
            .groups(10)
            .try_collect::<Vec<_>>()
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn dropping_the_emulator_stops_it() {
    let (emulator, client) = setup().await;
    client.invitations().await.unwrap();
    drop(emulator);
    // The server winds down on its own task; give it a bounded while.
    let mut refused = false;
    for _ in 0..100 {
        let fresh = BizClient::builder(PublisherToken::new(TOKEN))
            .base_url(client.base_url().as_str())
            .retry(RetryPolicy::none())
            .build()
            .unwrap();
        if matches!(fresh.invitations().await, Err(BizError::Transport(_))) {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(refused, "the emulator still answers after being dropped");
}

#[tokio::test]
async fn connection_failures_are_transport_errors_after_the_retries() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener); // nothing listens there now
    let client = BizClient::builder(PublisherToken::new("t"))
        .base_url(format!("http://{addr}"))
        .retry(RetryPolicy::new(1).backoff(Duration::from_millis(5), Duration::from_millis(5)))
        .build()
        .unwrap();
    let err = client.invitations().await.unwrap_err();
    assert!(matches!(err, BizError::Transport(_)), "{err:?}");
    assert!(BizClient::builder(PublisherToken::new("t"))
        .base_url("ftp://x")
        .build()
        .is_err());
    assert!(BizClient::builder(PublisherToken::new("bad\ntoken"))
        .build()
        .is_err());
}

#[tokio::test]
async fn personal_data_and_tokens_never_show_in_debug_or_errors() {
    let (emulator, client) = setup().await;
    client
        .invite(&to_plays(vec![person(1).alias("E-SECRET")]))
        .await
        .unwrap();
    let id = emulator.accept_invitation("user1@example.com").unwrap();
    let user = client.user(&id).await.unwrap();
    let invitations = client.invitations().await;
    let group = client
        .create_group(&GroupRequest::new("g").play_service_ids([PLAY]))
        .await
        .unwrap();
    let bad_row = client
        .invite(&to_plays(vec![Invitee::new(
            "user9@example.com",
            "홍길동",
            "bad",
        )]))
        .await
        .unwrap_err();
    assert_eq!(bad_row.code(), Some(&ErrorCode::User005));
    let printed = format!(
        "{client:?} {user:?} {invitations:?} {group:?} {bad_row:?} {bad_row} {:?} {:?}",
        person(1),
        emulator.publisher_token(),
    );
    for secret in [
        "user1@example.com",
        "사용자1",
        "01000000001",
        "E-SECRET",
        "홍길동",
        "user9@example.com",
        TOKEN,
        group.token.as_ref().unwrap().expose(),
    ] {
        assert!(!printed.contains(secret), "{secret} leaked into {printed}");
    }
    assert!(printed.contains("<redacted>"));
}

/// A server on 127.0.0.1 that records every request it gets: method, headers, body.
async fn recording_server(
    answer: impl Fn() -> axum::response::Response + Clone + Send + Sync + 'static,
) -> (
    std::net::SocketAddr,
    std::sync::Arc<std::sync::Mutex<Vec<(http::HeaderMap, bytes::Bytes)>>>,
) {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = seen.clone();
    let app = axum::Router::new().fallback(move |headers: http::HeaderMap, body: bytes::Bytes| {
        let record = record.clone();
        let answer = answer.clone();
        async move {
            record.lock().unwrap().push((headers, body));
            answer()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, seen)
}

#[tokio::test]
async fn a_redirect_to_another_host_is_an_error_naming_the_host_and_nothing_follows_it() {
    use axum::response::IntoResponse;
    // Another host ("localhost" is not "127.0.0.1" for reqwest's cross-host rule) that would
    // gladly take the invitation.
    let (elsewhere, received) = recording_server(|| {
        (
            http::StatusCode::CREATED,
            axum::Json(serde_json::json!({"id": 1})),
        )
            .into_response()
    })
    .await;
    for status in [301u16, 302, 307, 308] {
        let location = format!(
            "http://localhost:{}/collect?secret=query-value",
            elsewhere.port()
        );
        let (api, _) = recording_server(move || {
            (
                http::StatusCode::from_u16(status).unwrap(),
                [(http::header::LOCATION, location.clone())],
            )
                .into_response()
        })
        .await;
        let client = BizClient::builder(PublisherToken::new(TOKEN))
            .base_url(format!("http://{api}"))
            .retry(RetryPolicy::none())
            .build()
            .unwrap();
        let err = client.invite(&to_plays(vec![person(1)])).await.unwrap_err();
        let expected_host = format!("localhost:{}", elsewhere.port());
        match &err {
            BizError::Redirect { status: s, host } => {
                assert_eq!(*s, status);
                assert_eq!(host.as_deref(), Some(expected_host.as_str()));
            }
            other => panic!("{status}: expected a redirect error, got {other:?}"),
        }
        assert_eq!(err.status(), Some(status));
        let shown = format!("{err} {err:?}");
        assert!(shown.contains(&expected_host), "{shown}");
        assert!(
            !shown.contains("query-value") && !shown.contains("/collect"),
            "{shown}"
        );
        // A GET is not followed either.
        assert!(matches!(
            client.invitations().await,
            Err(BizError::Redirect { .. })
        ));
    }
    let received = received.lock().unwrap();
    assert!(
        received.is_empty(),
        "the redirect target received {} request(s), publisher token: {:?}",
        received.len(),
        received[0].0.get("publisher-token").is_some()
    );
}

#[tokio::test]
async fn every_400_of_the_emulator_carries_an_error_code() {
    let (emulator, _) = setup().await;
    let http = reqwest::Client::new();
    let base = emulator.base_url();
    let requests = [
        http.get(format!("{base}/api/v1/enrolledUser/user?page=0")),
        http.get(format!("{base}/api/v1/enrolledUser/user?page=1&page=2")),
        http.get(format!("{base}/api/v1/enrolledUser/group?pageSize=many")),
        http.post(format!("{base}/api/v1/enrolledUser/group"))
            .header("content-type", "application/json")
            .body("{\"name\": "),
        http.post(format!(
            "{base}/api/v2/enrolledUser/user/t/announcement?callBack=a&callBack=b"
        ))
        .header("content-type", "application/json")
        .body("{}"),
        // NUGU's callBack of account linking, without the token.
        http.post(format!("{base}/emulator/link/callback?status=s")),
    ];
    for request in requests {
        let request = request.header("Publisher-Token", TOKEN).build().unwrap();
        let shown = request.url().to_string();
        let response = http.execute(request).await.unwrap();
        assert_eq!(response.status(), 400, "{shown}");
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        assert!(body["errorCode"].is_string(), "{shown}: {body}");
    }
}
