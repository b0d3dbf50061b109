//! The Biz answers as the documentation prints them read into the typed model, leniently.
#![cfg(feature = "biz")]

use std::cell::Cell;

use futures_util::TryStreamExt;
use nugu_proxy::biz::{
    pages, ApiAgreeType, AuthType, BizError, ErrorCode, GroupPage, GroupSummary, InvitationId,
    InvitationStatus, Page, ServiceType, UserDetail, UserPage,
};

/// "Biz 사용자 상세 조회" 3.2, with the comma the page forgets after `"agreeYn": "Y"`.
const USER_DETAIL: &str = r#"{
  "id": "XXX", "name": "XXX", "token": "XXX", "email": "XXX", "alias": "XXX", "phone": "XXX",
  "group": {"id": "XXX", "name": "XXX"},
  "serviceType": "SERVICE", "serviceAgreeYn": "Y", "serviceApiAgreeYn": "Y",
  "serviceApiAllowedDeviceCount": 3, "serviceAcceptedDateTime": "2021-0804T16:34:30.388",
  "plays": [{"playServiceId": "a.b.c", "token": "XXX", "agreeYn": "Y", "apiAgreeYn": "Y",
             "apiAllowedDeviceCount": 3, "acceptedDateTime": "2021-0804T16:34:30.388"}]
}"#;

/// "Biz 사용자 목록 조회" 3.2 (note `AGREE`, which the enum table does not list), plus a user
/// without group, a future `serviceType` and an extra field.
const USER_LIST: &str = r#"{
  "totalPages": 10, "totalElements": 100,
  "users": [
    {"id": "XXX", "name": "XXX", "email": "XXX", "alias": "XXX", "phone": "XXX",
     "group": {"id": "XXX", "name": "XXX"}, "serviceType": "SERVICE", "apiAgreeType": "AGREE",
     "authType": "ALL", "acceptedDateTime": "2021-0804T16:34:30.388"},
    {"id": "U2", "name": "B", "email": "b@example.com", "alias": null, "phone": "01011112222",
     "group": null, "serviceType": "KIOSK", "apiAgreeType": "NONE", "authType": "SOME",
     "acceptedDateTime": "2021-08-04T16:34:30.388", "addedLater": {"x": 1}}
  ]
}"#;

/// "Biz 사용자 그룹 목록 조회" 3.2.
const GROUP_LIST: &str = r#"{
  "totalPages": 10, "totalElements": 100, "unmappedUserCount": 3,
  "groups": [{"id": "XXX", "name": "XXX", "token": "XXX", "alias": "XXX", "playCount": 3,
              "userCount": 3, "createdDateTime": "2021-0804T16:34:30.388"}]
}"#;

/// "Biz 사용자 초대 목록 조회" 3.2, with a `null` target list as a group invitation may send.
const INVITATIONS: &str = r#"{
  "invitations": [
    {"id": 333, "cause": "서비스 사용을 위한 초대", "createdDate": "2017-11-06T06:00:00.000Z",
     "targetPlayServiceIds": ["aaa.bbb.ccc", "ddd.eee.fff"], "targetGroupId": "XXX",
     "users": [{"email": "XXX", "name": "XXX", "alias": "XXX", "status": "ENABLE"}]},
    {"id": 334, "cause": null, "createdDate": "2017-11-06", "targetPlayServiceIds": null,
     "targetGroupId": "G1", "users": [{"email": "y@example.com", "status": "EXPIRED"}]}
  ]
}"#;

#[test]
fn the_documented_user_detail_reads_despite_its_malformed_dates() {
    let user: UserDetail = serde_json::from_str(USER_DETAIL).unwrap();
    assert_eq!(user.service_type, Some(ServiceType::Service));
    assert_eq!(user.service_agree_yn, Some(true));
    assert_eq!(user.service_api_allowed_device_count, Some(3));
    let accepted = user.service_accepted_date_time.unwrap();
    assert_eq!(accepted.raw(), "2021-0804T16:34:30.388");
    // The pages' missing dash is read leniently: `YYYY-MMDD` has one meaning.
    assert_eq!(
        accepted.civil().unwrap().to_string(),
        "2021-08-04T16:34:30.388"
    );
    assert_eq!(user.plays.len(), 1);
    assert_eq!(user.plays[0].play_service_id, "a.b.c");
    assert_eq!(user.plays[0].api_agree_yn, Some(true));
}

#[test]
fn the_documented_user_list_keeps_unknown_enum_values() {
    let page: UserPage = serde_json::from_str(USER_LIST).unwrap();
    assert_eq!((page.total_pages, page.total_elements), (10, 100));
    let [first, second] = &page.users[..] else {
        panic!("two users expected");
    };
    assert_eq!(
        first.api_agree_type,
        Some(ApiAgreeType::Other("AGREE".into()))
    );
    assert_eq!(first.auth_type, Some(AuthType::All));
    // The pages' `2021-0804T...` reads as the date it means.
    assert_eq!(
        first.accepted_date_time.as_ref().unwrap().civil(),
        second.accepted_date_time.as_ref().unwrap().civil()
    );
    assert_eq!(
        second.service_type,
        Some(ServiceType::Other("KIOSK".into()))
    );
    assert_eq!(second.api_agree_type, Some(ApiAgreeType::None));
    assert_eq!(second.auth_type, Some(AuthType::Some));
    assert_eq!(second.group, None);
    assert_eq!(second.alias, None);
    let civil = second.accepted_date_time.as_ref().unwrap().civil().unwrap();
    assert_eq!(
        (civil.year(), civil.month(), civil.day(), civil.hour()),
        (2021, 8, 4, 16)
    );
    assert_eq!(civil.millisecond(), 388);
}

#[test]
fn the_documented_group_list_and_invitation_list_read() {
    let groups: GroupPage = serde_json::from_str(GROUP_LIST).unwrap();
    assert_eq!(groups.unmapped_user_count, 3);
    assert_eq!(groups.groups[0].play_count, 3);
    let list: serde_json::Value = serde_json::from_str(INVITATIONS).unwrap();
    let invitations: Vec<nugu_proxy::biz::Invitation> =
        serde_json::from_value(list["invitations"].clone()).unwrap();
    assert_eq!(invitations[0].id, InvitationId(333));
    assert_eq!(invitations[0].target_play_service_ids.len(), 2);
    // The invitation example is UTC (`Z`): the zone is kept, not dropped.
    let created = invitations[0].created_date.as_ref().unwrap();
    assert_eq!(
        created.offset(),
        Some(nugu_proxy::biz::jiff::tz::Offset::UTC)
    );
    assert_eq!(
        created.timestamp().unwrap().to_string(),
        "2017-11-06T06:00:00Z"
    );
    assert_eq!(
        invitations[0].users[0].status,
        Some(InvitationStatus::Enable)
    );
    assert!(invitations[1].target_play_service_ids.is_empty());
    assert_eq!(invitations[1].cause, None);
    assert!(invitations[1]
        .created_date
        .as_ref()
        .unwrap()
        .civil()
        .is_none());
    assert_eq!(
        invitations[1].users[0].status,
        Some(InvitationStatus::Other("EXPIRED".into()))
    );
}

#[test]
fn fields_the_tables_type_as_arrays_and_numeric_ids_still_read() {
    let groups: GroupPage = serde_json::from_str(
        r#"{"totalPages": 1, "totalElements": 1, "unmappedUserCount": 0,
            "groups": [{"id": 17, "name": "g", "token": ["T1"], "alias": [{"x": 1}],
                        "playCount": 0, "userCount": 0}]}"#,
    )
    .unwrap();
    let group = &groups.groups[0];
    assert_eq!(group.id.as_str(), "17");
    assert_eq!(group.token.as_ref().unwrap().expose(), "T1");
    assert_eq!(group.alias, None);
    let updated: nugu_proxy::biz::UpdatedUser = serde_json::from_str(
        r#"{"id": "U1", "email": "e", "name": "n", "alias": null, "targetGroupId": ["G2"]}"#,
    )
    .unwrap();
    assert_eq!(updated.target_group_id.unwrap().as_str(), "G2");
}

#[test]
fn every_documented_error_code_round_trips_and_new_ones_are_kept() {
    let documented = [
        "PUB001", "PLAY001", "PLAY002", "PLAY003", "GROUP001", "GROUP002", "GROUP003", "GROUP004",
        "GROUP005", "USER001", "USER002", "USER003", "USER004", "USER005", "USER006", "USER007",
        "USER008", "V1ANN001", "V1ANN002", "V1ANN101", "V1ANN102", "V1ANN103", "V1ANN104",
        "V1ANN105", "V1ANN201", "V1ANN202", "V1ANN203", "V1ANN204", "V1ANN301",
    ];
    for wire in documented {
        let code = ErrorCode::from(wire);
        assert!(!matches!(code, ErrorCode::Unknown(_)), "{wire}");
        assert_eq!(code.as_str(), wire);
        assert_eq!(serde_json::to_value(&code).unwrap(), wire);
    }
    // The announcement codes are documented now; a code added later is still kept.
    let new: ErrorCode = serde_json::from_str("\"V1ANN999\"").unwrap();
    assert_eq!(new, ErrorCode::Unknown("V1ANN999".into()));
}

fn group_page(total_pages: u32, names: &[&str]) -> GroupPage {
    GroupPage {
        total_pages,
        total_elements: 0,
        unmapped_user_count: 0,
        groups: names
            .iter()
            .map(|n| GroupSummary {
                id: (*n).into(),
                name: (*n).into(),
                token: None,
                alias: None,
                play_count: 0,
                user_count: 0,
                created_date_time: None,
            })
            .collect(),
    }
}

#[tokio::test]
async fn paging_walks_every_page_and_stops_on_a_lying_total() {
    let calls = Cell::new(0);
    let all: Vec<_> = pages(Page::first().size(2), |page| {
        calls.set(calls.get() + 1);
        let answer = match page.number() {
            1 => group_page(3, &["a", "b"]),
            2 => group_page(3, &["c", "d"]),
            _ => group_page(3, &["e"]),
        };
        async move { Ok::<_, BizError>(answer) }
    })
    .try_collect()
    .await
    .unwrap();
    let names: Vec<_> = all.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c", "d", "e"]);
    assert_eq!(calls.get(), 3);

    // totalPages claims 1000 pages, but page 2 is empty: the walk stops there.
    calls.set(0);
    let all: Vec<_> = pages(Page::first(), |page| {
        calls.set(calls.get() + 1);
        let answer = if page.number() == 1 {
            group_page(1000, &["a"])
        } else {
            group_page(1000, &[])
        };
        async move { Ok::<_, BizError>(answer) }
    })
    .try_collect()
    .await
    .unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(calls.get(), 2);

    // An error ends the walk after the items before it.
    let mut stream = std::pin::pin!(pages(Page::first(), |page| {
        let answer = match page.number() {
            1 => Ok(group_page(2, &["a"])),
            _ => Err(BizError::Forbidden),
        };
        async move { answer }
    }));
    assert_eq!(stream.try_next().await.unwrap().unwrap().name, "a");
    assert!(matches!(stream.try_next().await, Err(BizError::Forbidden)));
    assert!(stream.try_next().await.unwrap().is_none());
}

#[test]
fn a_user_group_sent_as_a_string_does_not_fail_the_page() {
    // The list page's table types `users[].group` as a string ("null when unassigned").
    let page: UserPage = serde_json::from_str(
        r#"{"totalPages": 1, "totalElements": 3, "users": [
            {"id": "U1", "group": "G7"},
            {"id": "U2", "group": {"id": "G8", "name": "Stores"}},
            {"id": "U3", "group": 42}
        ]}"#,
    )
    .unwrap();
    let groups: Vec<_> = page
        .users
        .iter()
        .map(|u| u.group.as_ref().map(|g| (g.id.as_str(), g.name.as_deref())))
        .collect();
    assert_eq!(
        groups,
        [Some(("G7", None)), Some(("G8", Some("Stores"))), None]
    );
}

/// Issue 21: an update body carries only what the admin set; clearing is explicit.
#[test]
fn update_bodies_carry_only_what_is_set() {
    use nugu_proxy::biz::{Change, GroupId, GroupRequest, UserUpdate};
    use serde_json::json;
    fn body<T: serde::Serialize>(value: &T) -> serde_json::Value {
        serde_json::to_value(value).unwrap()
    }
    assert_eq!(body(&UserUpdate::new("Kim")), json!({"name": "Kim"}));
    assert_eq!(
        body(
            &UserUpdate::new("Kim")
                .alias("E-1")
                .move_to(GroupId::from("G1"))
        ),
        json!({"name": "Kim", "alias": "E-1", "targetGroupId": "G1"})
    );
    assert_eq!(
        body(&UserUpdate::new("Kim").clear_alias()),
        json!({"name": "Kim", "alias": ""})
    );
    assert_eq!(
        body(&GroupRequest::new("Stores")),
        json!({"name": "Stores"})
    );
    assert_eq!(
        body(&GroupRequest::new("Stores").play_service_ids(Vec::<String>::new())),
        json!({"name": "Stores"}),
        "an empty list is no change"
    );
    assert_eq!(
        body(&GroupRequest::new("Stores").clear_alias().remove_plays()),
        json!({"name": "Stores", "alias": "", "playServiceIds": []})
    );
    assert_eq!(UserUpdate::new("Kim").alias, Change::Keep);
}

#[test]
fn an_invitation_always_sends_its_reason() {
    use nugu_proxy::biz::{InvitationReason, InvitationRequest, InvitationTarget, Invitee};
    let request = InvitationRequest::new(
        InvitationTarget::Plays(vec!["a.b.c".into()]),
        vec![Invitee::new("kim@example.com", "Kim", "01012345678")],
        InvitationReason::new("서비스 사용을 위한 초대").unwrap(),
    );
    let json = serde_json::to_value(&request).unwrap();
    assert_eq!(json["reason"], "서비스 사용을 위한 초대");
    for bad in ["", " \t", &"가".repeat(401)] {
        let err = InvitationReason::try_from(bad).unwrap_err();
        assert_eq!(err.code(), Some(&ErrorCode::User006));
        assert!(!err.to_string().contains("가가"), "no value in the message");
    }
}
