//! The emulator's in-memory publisher: plays, groups, invitations, users, and the API's rules.
//!
//! Every operation takes the current time from the caller, so the state itself is plain data and
//! the clock stays injectable.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, SystemTime};

use serde::Deserialize;
use serde_json::{json, Value};

use super::clock::{local_date_time, utc_date_time};
use super::{DeviceState, Edition, EmulatorError, PlayStatus, TrialLimit};
use crate::biz::error::ErrorCode;
use crate::biz::model::{
    Announcement, AnnouncementResultCode, ApiAgreeType, AuthType, Created, DeviceResult,
    DeviceResultCode, Display, EmailEntry, EmailList, Group, GroupAnnouncementResult, GroupDetail,
    GroupId, GroupPage, GroupRef, GroupSummary, Invitation, InvitationId, InvitationList,
    InvitationStatus, InvitedUser, Sensitive, ServiceType, SharedDevice,
    SharedDeviceAnnouncementResult, SharedDeviceGroup, SharedDeviceGroupList, SharedDeviceResult,
    Tts, UpdatedUser, UserAnnouncementResult, UserDetail, UserId, UserPage, UserPlay, UserSummary,
};
use crate::biz::validate::{self, AnnouncementView, DisplayView, TtsView, Violation};
use crate::biz::LinkResultCode;

/// How long an invitation email stays valid.
pub(crate) const INVITATION_VALIDITY: Duration = Duration::from_secs(72 * 3600);

/// Users a trial publisher may hold, pending invitations included.
pub(crate) const TRIAL_USER_LIMIT: usize = 10;

/// The answers of the API other than success.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// 400 with an `errorCode`.
    Code(ErrorCode),
    /// 400 for an unreadable request, which the pages give no code for: answered with
    /// `{"errorCode": "INVALID_REQUEST"}`, so that every 400 carries a code.
    BadRequest,
    /// 401 (group name exists).
    NameTaken,
    /// 404.
    NotFound,
    /// 406 (already accepted).
    NotAcceptable,
    /// 415 (the body is not JSON).
    UnsupportedMediaType,
}

impl From<ErrorCode> for Refusal {
    fn from(code: ErrorCode) -> Self {
        Self::Code(code)
    }
}

impl From<Violation> for Refusal {
    fn from(v: Violation) -> Self {
        Self::Code(v.code)
    }
}

type Answer<T> = Result<T, Refusal>;

// -- request bodies as the emulator reads them: every field optional, to answer the API's codes

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RawGroup {
    name: Option<String>,
    alias: Option<String>,
    #[serde(default)]
    play_service_ids: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RawInvitation {
    reason: Option<String>,
    target_play_service_ids: Option<Vec<String>>,
    target_group_id: Option<String>,
    #[serde(default)]
    users: Option<Vec<RawInvitee>>,
}

#[derive(Deserialize)]
pub(crate) struct RawInvitee {
    email: Option<String>,
    name: Option<String>,
    phone: Option<String>,
    alias: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RawUserUpdate {
    name: Option<String>,
    alias: Option<String>,
    target_group_id: Option<String>,
}

// -- records

struct GroupRec {
    id: GroupId,
    name: String,
    alias: Option<String>,
    token: String,
    plays: Vec<String>,
    created: SystemTime,
}

#[derive(Clone, PartialEq, Eq)]
enum Target {
    Plays(Vec<String>),
    Group(GroupId),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum InviteeState {
    Pending,
    Accepted,
    Cancelled,
    /// Replaced by a later invitation of the same email.
    Superseded,
}

struct InviteeRec {
    email: String,
    name: String,
    phone: String,
    alias: Option<String>,
    state: InviteeState,
}

struct InvitationRec {
    cause: Option<String>,
    sent: SystemTime,
    target: Target,
    invitees: Vec<InviteeRec>,
    /// The user being moved, for the re-invitation an update of a `PLAY` user starts.
    moves: Option<UserId>,
}

struct UserRec {
    id: UserId,
    email: String,
    name: String,
    phone: String,
    alias: Option<String>,
    group: Option<GroupId>,
    /// The plays of an unassigned user (a grouped user has the group's).
    plays: Vec<String>,
    service_type: ServiceType,
    token: Option<String>,
    accepted: SystemTime,
    /// Agreed to receive Biz API messages (`serviceApiAgreeYn`); a `PLAY` user never has.
    api_agreed: bool,
    devices: Vec<DeviceRec>,
}

#[derive(Clone)]
pub(crate) struct DeviceRec {
    pub(crate) unique_name: String,
    pub(crate) token: String,
    pub(crate) alias: Option<String>,
    pub(crate) state: DeviceState,
}

impl DeviceRec {
    pub(crate) fn new(unique_name: &str, state: DeviceState) -> Self {
        Self {
            unique_name: unique_name.to_owned(),
            token: opaque("DT", unique_name),
            alias: None,
            state,
        }
    }
}

struct SharedGroupRec {
    name: String,
    token: String,
    devices: Vec<DeviceRec>,
}

/// An account link in progress: NUGU sent the user to the publisher with `status`.
struct LinkRec {
    email: String,
    /// What the publisher posted to `callBack`: the token and the `confirmUrl`.
    posted: Option<(String, Option<String>)>,
}

/// What the emulator decided about a link, and where to confirm it.
pub(crate) struct LinkDecision {
    pub(crate) result: Result<UserId, EmulatorError>,
    pub(crate) confirmation: Option<(String, String, LinkResultCode)>,
}

/// Where a result goes and what it says, after an announcement was played.
pub(crate) enum Delivery {
    User(UserAnnouncementResult),
    Group(GroupAnnouncementResult),
    Shared(SharedDeviceAnnouncementResult),
}

fn key(email: &str) -> String {
    email.trim().to_lowercase()
}

/// FNV-1a: stable pseudo-random ids and keys without a dependency.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn opaque(prefix: &str, seed: &str) -> String {
    format!(
        "{prefix}{:016X}{:016X}",
        fnv(seed),
        fnv(&format!("{seed}#"))
    )
}

/// One publisher's data.
pub(crate) struct State {
    pub(crate) edition: Edition,
    trial_limit: TrialLimit,
    pub(crate) biz_kit_info: bool,
    plays: HashMap<String, PlayStatus>,
    groups: BTreeMap<GroupId, GroupRec>,
    invitations: BTreeMap<InvitationId, InvitationRec>,
    users: BTreeMap<UserId, UserRec>,
    serial: u64,
    shared_groups: Vec<SharedGroupRec>,
    links: HashMap<String, LinkRec>,
    heard: HashMap<String, Vec<Announcement>>,
}

impl State {
    pub(crate) fn new(edition: Edition, trial_limit: TrialLimit) -> Self {
        Self {
            edition,
            trial_limit,
            biz_kit_info: true,
            plays: HashMap::new(),
            groups: BTreeMap::new(),
            invitations: BTreeMap::new(),
            users: BTreeMap::new(),
            serial: 0,
            shared_groups: Vec::new(),
            links: HashMap::new(),
            heard: HashMap::new(),
        }
    }

    fn next(&mut self) -> u64 {
        self.serial += 1;
        self.serial
    }

    pub(crate) fn set_play(&mut self, id: &str, status: PlayStatus) {
        self.plays.insert(id.to_owned(), status);
    }

    fn check_plays(&self, ids: &[String]) -> Answer<()> {
        for id in ids {
            match self.plays.get(id) {
                None => return Err(ErrorCode::Play001.into()),
                Some(PlayStatus::NotInService) => return Err(ErrorCode::Play002.into()),
                Some(PlayStatus::OtherPublisher) => return Err(ErrorCode::Play003.into()),
                Some(PlayStatus::InService) => {}
            }
        }
        Ok(())
    }

    fn group_named(&self, name: &str) -> Option<&GroupId> {
        self.groups
            .values()
            .find(|g| g.name == name.trim())
            .map(|g| &g.id)
    }

    // -- groups -----------------------------------------------------------------------------

    /// Checks a group body; answers the plays sent (`None`: not sent).
    fn checked_group(
        &self,
        raw: &RawGroup,
        except: Option<&GroupId>,
    ) -> Answer<Option<Vec<String>>> {
        let plays = raw.play_service_ids.as_deref().unwrap_or_default();
        validate::group_fields(raw.name.as_deref(), raw.alias.as_deref(), plays)?;
        self.check_plays(plays)?;
        let name = raw.name.as_deref().unwrap_or_default();
        match self.group_named(name) {
            Some(existing) if Some(existing) != except => Err(Refusal::NameTaken),
            _ => Ok(raw.play_service_ids.clone()),
        }
    }

    fn group_answer(g: &GroupRec) -> Group {
        Group {
            id: g.id.clone(),
            name: g.name.clone(),
            token: Some(Sensitive::new(g.token.clone())),
            alias: g.alias.clone(),
            play_service_ids: g.plays.clone(),
        }
    }

    pub(crate) fn create_group(&mut self, raw: RawGroup, now: SystemTime) -> Answer<Group> {
        let plays = self.checked_group(&raw, None)?;
        let serial = self.next();
        let id = GroupId::new(format!("G{serial:06}"));
        let mut alias = None;
        update_field(&mut alias, raw.alias);
        let rec = GroupRec {
            token: opaque("GT", id.as_str()),
            id: id.clone(),
            name: raw.name.unwrap_or_default().trim().to_owned(),
            alias,
            plays: plays.unwrap_or_default(),
            created: now,
        };
        let answer = Self::group_answer(&rec);
        self.groups.insert(id, rec);
        Ok(answer)
    }

    /// What is not sent stays as it is (see [`update_field`]).
    pub(crate) fn update_group(&mut self, id: &GroupId, raw: RawGroup) -> Answer<Group> {
        if !self.groups.contains_key(id) {
            return Err(Refusal::NotFound);
        }
        let plays = self.checked_group(&raw, Some(id))?;
        let rec = self.groups.get_mut(id).ok_or(Refusal::NotFound)?;
        rec.name = raw.name.unwrap_or_default().trim().to_owned();
        update_field(&mut rec.alias, raw.alias);
        if let Some(plays) = plays {
            rec.plays = plays;
        }
        Ok(Self::group_answer(rec))
    }

    pub(crate) fn delete_group(&mut self, id: &GroupId) -> Answer<()> {
        let rec = self.groups.remove(id).ok_or(Refusal::NotFound)?;
        for user in self
            .users
            .values_mut()
            .filter(|u| u.group.as_ref() == Some(id))
        {
            // Unassigned users keep the plays they had through the group.
            user.group = None;
            user.plays = rec.plays.clone();
        }
        Ok(())
    }

    pub(crate) fn list_groups(&self, page: usize, size: usize) -> GroupPage {
        let groups = page_of(self.groups.values(), page, size)
            .map(|g| GroupSummary {
                id: g.id.clone(),
                name: g.name.clone(),
                token: Some(Sensitive::new(g.token.clone())),
                alias: g.alias.clone(),
                play_count: g.plays.len() as u32,
                user_count: self.members(Some(&g.id)).count() as u64,
                created_date_time: Some(local_date_time(g.created)),
            })
            .collect();
        GroupPage {
            total_pages: total_pages(self.groups.len(), size),
            total_elements: self.groups.len() as u64,
            unmapped_user_count: self.members(None).count() as u64,
            groups,
        }
    }

    fn members<'a>(&'a self, group: Option<&'a GroupId>) -> impl Iterator<Item = &'a UserRec> {
        self.users
            .values()
            .filter(move |u| u.group.as_ref() == group)
    }

    /// `None` is `unmappedUser`.
    pub(crate) fn group(&self, id: Option<&GroupId>) -> Answer<GroupDetail> {
        let users = self
            .members(id)
            .map(|u| {
                let mut summary = self.user_summary(u);
                summary.group = None;
                summary
            })
            .collect();
        let Some(id) = id else {
            return Ok(GroupDetail {
                id: None,
                name: None,
                token: None,
                alias: None,
                play_service_ids: Vec::new(),
                users,
            });
        };
        let g = self.groups.get(id).ok_or(Refusal::NotFound)?;
        Ok(GroupDetail {
            id: Some(g.id.clone()),
            name: Some(g.name.clone()),
            token: Some(Sensitive::new(g.token.clone())),
            alias: g.alias.clone(),
            play_service_ids: g.plays.clone(),
            users,
        })
    }

    // -- invitations ------------------------------------------------------------------------

    /// The plays an invitation gives.
    fn target_plays(&self, target: &Target) -> Vec<String> {
        match target {
            Target::Plays(plays) => plays.clone(),
            Target::Group(id) => self
                .groups
                .get(id)
                .map(|g| g.plays.clone())
                .unwrap_or_default(),
        }
    }

    /// The emails that count against the trial limit: pending (unexpired) and enrolled; with
    /// `play`, only those who have or are invited to it.
    fn emails_in_use(&self, now: SystemTime, play: Option<&str>) -> HashSet<String> {
        let has = |plays: Vec<String>| play.is_none_or(|p| plays.iter().any(|q| q == p));
        let pending = self
            .invitations
            .values()
            .filter(|inv| !expired(inv.sent, now) && has(self.target_plays(&inv.target)))
            .flat_map(|inv| inv.invitees.iter())
            .filter(|i| i.state == InviteeState::Pending)
            .map(|i| key(&i.email));
        let enrolled = self
            .users
            .values()
            .filter(|u| has(self.plays_of(u)))
            .map(|u| key(&u.email));
        pending.chain(enrolled).collect()
    }

    /// `USER007`: a trial publisher holds at most 10 users, per publisher or per play.
    fn check_trial_limit(
        &self,
        target: &Target,
        invitees: &[InviteeRec],
        now: SystemTime,
    ) -> Answer<()> {
        if self.edition != Edition::Trial {
            return Ok(());
        }
        let scopes = match self.trial_limit {
            TrialLimit::PerPublisher => vec![None],
            TrialLimit::PerPlay => self.target_plays(target).into_iter().map(Some).collect(),
        };
        for scope in scopes {
            let in_use = self.emails_in_use(now, scope.as_deref());
            let new = invitees
                .iter()
                .map(|i| key(&i.email))
                .filter(|email| !in_use.contains(email))
                .collect::<HashSet<_>>()
                .len();
            if in_use.len() + new > TRIAL_USER_LIMIT {
                return Err(ErrorCode::User007.into());
            }
        }
        Ok(())
    }

    pub(crate) fn invite(&mut self, raw: RawInvitation, now: SystemTime) -> Answer<Created> {
        if raw.target_play_service_ids.is_some() && raw.target_group_id.is_some() {
            return Err(ErrorCode::Group004.into());
        }
        if !self.biz_kit_info {
            return Err(ErrorCode::Pub001.into());
        }
        let users = raw.users.unwrap_or_default();
        validate::invitation_fields(
            raw.reason.as_deref(),
            raw.target_play_service_ids.as_deref(),
            raw.target_group_id.as_deref(),
            users.iter().map(|u| {
                [
                    u.email.as_deref(),
                    u.name.as_deref(),
                    u.phone.as_deref(),
                    u.alias.as_deref(),
                ]
            }),
        )?;
        let target = match (raw.target_play_service_ids, raw.target_group_id) {
            (Some(plays), _) => {
                self.check_plays(&plays)?;
                Target::Plays(plays)
            }
            (None, group) => {
                let id = GroupId::new(group.unwrap_or_default());
                let g = self.groups.get(&id).ok_or(ErrorCode::Group001)?;
                if g.plays.is_empty() {
                    return Err(ErrorCode::Group005.into());
                }
                Target::Group(id)
            }
        };
        let invitees = users
            .into_iter()
            .map(|u| InviteeRec {
                email: u.email.unwrap_or_default().trim().to_owned(),
                name: u.name.unwrap_or_default(),
                phone: u.phone.unwrap_or_default(),
                alias: u.alias,
                state: InviteeState::Pending,
            })
            .collect();
        self.record_invitation(raw.reason, target, invitees, None, now)
    }

    fn record_invitation(
        &mut self,
        cause: Option<String>,
        target: Target,
        invitees: Vec<InviteeRec>,
        moves: Option<UserId>,
        now: SystemTime,
    ) -> Answer<Created> {
        self.check_trial_limit(&target, &invitees, now)?;
        let mut invitees = invitees;
        // Re-inviting an email replaces its pending invitation with the new name and alias
        // ("name, alias가 갱신된다"); an alias not sent is kept, as in every update. An enrolled
        // user is renamed only when they accept the new invitation.
        for invitee in &mut invitees {
            let email = key(&invitee.email);
            let mut earlier_alias = self
                .users
                .values()
                .find(|u| key(&u.email) == email)
                .and_then(|u| u.alias.clone());
            for earlier in self.invitations.values_mut() {
                for i in &mut earlier.invitees {
                    if i.state == InviteeState::Pending && key(&i.email) == email {
                        i.state = InviteeState::Superseded;
                        earlier_alias = i.alias.clone().or(earlier_alias);
                    }
                }
            }
            if invitee.alias.is_none() {
                invitee.alias = earlier_alias;
            }
        }
        let id = InvitationId(self.next() as i64);
        self.invitations.insert(
            id,
            InvitationRec {
                cause,
                sent: now,
                target,
                invitees,
                moves,
            },
        );
        Ok(Created { id })
    }

    pub(crate) fn invitations(&self, now: SystemTime) -> InvitationList {
        let invitations = self
            .invitations
            .iter()
            .filter_map(|(id, inv)| {
                let status = if expired(inv.sent, now) {
                    InvitationStatus::Disable
                } else {
                    InvitationStatus::Enable
                };
                let users: Vec<InvitedUser> = inv
                    .invitees
                    .iter()
                    .filter(|i| i.state == InviteeState::Pending)
                    .map(|i| InvitedUser {
                        email: Sensitive::new(i.email.clone()),
                        name: Some(Sensitive::new(i.name.clone())),
                        token: self
                            .user_by_email(&i.email)
                            .and_then(|u| u.token.clone())
                            .map(Sensitive::new),
                        alias: i.alias.clone().map(Sensitive::new),
                        status: Some(status.clone()),
                    })
                    .collect();
                let (plays, group) = match &inv.target {
                    Target::Plays(plays) => (plays.clone(), None),
                    Target::Group(id) => (Vec::new(), Some(id.clone())),
                };
                (!users.is_empty()).then(|| Invitation {
                    id: *id,
                    cause: inv.cause.clone(),
                    // As the page writes it: UTC with milliseconds and `Z`.
                    created_date: Some(utc_date_time(inv.sent)),
                    target_play_service_ids: plays,
                    target_group_id: group,
                    users,
                })
            })
            .collect();
        InvitationList { invitations }
    }

    /// Cancels pending invitees (all of them when `emails` is empty).
    pub(crate) fn cancel(&mut self, id: InvitationId, emails: &[String]) -> Answer<EmailList> {
        validate::cancel_emails(emails.iter().map(String::as_str))?;
        let inv = self.invitations.get_mut(&id).ok_or(Refusal::NotFound)?;
        let wanted: HashSet<String> = emails.iter().map(|e| key(e)).collect();
        let mut cancelled = Vec::new();
        let mut accepted = false;
        for invitee in &mut inv.invitees {
            if !wanted.is_empty() && !wanted.contains(&key(&invitee.email)) {
                continue;
            }
            match invitee.state {
                InviteeState::Pending => {
                    invitee.state = InviteeState::Cancelled;
                    cancelled.push(EmailEntry {
                        email: Sensitive::new(invitee.email.clone()),
                    });
                }
                InviteeState::Accepted => accepted = true,
                InviteeState::Cancelled | InviteeState::Superseded => {}
            }
        }
        match (cancelled.is_empty(), accepted) {
            (false, _) => Ok(EmailList { users: cancelled }),
            (true, true) => Err(Refusal::NotAcceptable),
            (true, false) => Err(Refusal::NotFound),
        }
    }

    // -- users ------------------------------------------------------------------------------

    fn user_by_email(&self, email: &str) -> Option<&UserRec> {
        let email = key(email);
        self.users.values().find(|u| key(&u.email) == email)
    }

    fn plays_of(&self, user: &UserRec) -> Vec<String> {
        match &user.group {
            Some(id) => self
                .groups
                .get(id)
                .map(|g| g.plays.clone())
                .unwrap_or_default(),
            None => user.plays.clone(),
        }
    }

    fn group_ref(&self, id: Option<&GroupId>) -> Option<GroupRef> {
        let g = self.groups.get(id?)?;
        Some(GroupRef {
            id: g.id.clone(),
            name: Some(g.name.clone()),
        })
    }

    fn user_summary(&self, u: &UserRec) -> UserSummary {
        UserSummary {
            id: u.id.clone(),
            name: Some(Sensitive::new(u.name.clone())),
            email: Some(Sensitive::new(u.email.clone())),
            alias: u.alias.clone().map(Sensitive::new),
            phone: Some(Sensitive::new(u.phone.clone())),
            group: self.group_ref(u.group.as_ref()),
            service_type: Some(u.service_type.clone()),
            // The same fact as `serviceApiAgreeYn` of the user's detail.
            api_agree_type: Some(if Self::api_agreed(u) {
                ApiAgreeType::All
            } else {
                ApiAgreeType::None
            }),
            // Partner authentication: a linked (token-holding) user.
            auth_type: Some(if u.token.is_some() {
                AuthType::All
            } else {
                AuthType::None
            }),
            accepted_date_time: Some(local_date_time(u.accepted)),
        }
    }

    pub(crate) fn list_users(&self, page: usize, size: usize) -> UserPage {
        UserPage {
            total_pages: total_pages(self.users.len(), size),
            total_elements: self.users.len() as u64,
            users: page_of(self.users.values(), page, size)
                .map(|u| self.user_summary(u))
                .collect(),
        }
    }

    fn api_agreed(u: &UserRec) -> bool {
        u.service_type == ServiceType::Service && u.api_agreed
    }

    /// "Get user", read as the emulator reads the table's terse "사용자 초대 유형이 X일 경우
    /// Y" ("when the invitation type is X: Y"): for a `SERVICE` user each play repeats the
    /// user-level value (the user's token, consent, device count, acceptance date); for a
    /// `PLAY` user the tokens are `null`, the consents `N` and the counts 0, and each play
    /// keeps `agreeYn: Y` (the user accepted it) and its acceptance date.
    pub(crate) fn user(&self, id: &UserId) -> Answer<UserDetail> {
        let u = self.users.get(id).ok_or(Refusal::NotFound)?;
        let service = u.service_type == ServiceType::Service;
        let api_agreed = Self::api_agreed(u);
        let allowed_devices = if api_agreed {
            u.devices.len() as u32
        } else {
            0
        };
        let token = if service { u.token.clone() } else { None };
        let accepted = local_date_time(u.accepted);
        let plays = self
            .plays_of(u)
            .into_iter()
            .map(|play| UserPlay {
                token: token.clone().map(Sensitive::new),
                play_service_id: play,
                agree_yn: Some(true),
                api_agree_yn: Some(api_agreed),
                api_allowed_device_count: Some(allowed_devices),
                accepted_date_time: Some(accepted.clone()),
            })
            .collect();
        Ok(UserDetail {
            id: u.id.clone(),
            name: Some(Sensitive::new(u.name.clone())),
            token: token.map(Sensitive::new),
            email: Some(Sensitive::new(u.email.clone())),
            alias: u.alias.clone().map(Sensitive::new),
            phone: Some(Sensitive::new(u.phone.clone())),
            group: self.group_ref(u.group.as_ref()),
            service_type: Some(u.service_type.clone()),
            service_agree_yn: Some(service),
            service_api_agree_yn: Some(api_agreed),
            service_api_allowed_device_count: Some(allowed_devices),
            service_accepted_date_time: Some(accepted),
            plays,
        })
    }

    pub(crate) fn update_user(
        &mut self,
        id: &UserId,
        raw: RawUserUpdate,
        now: SystemTime,
    ) -> Answer<UpdatedUser> {
        if !self.users.contains_key(id) {
            return Err(Refusal::NotFound);
        }
        if !self.biz_kit_info {
            return Err(ErrorCode::User008.into());
        }
        validate::user_update_fields(
            raw.name.as_deref(),
            raw.alias.as_deref(),
            raw.target_group_id.as_deref(),
        )?;
        let target = raw.target_group_id.map(GroupId::new);
        if let Some(group) = &target {
            if !self.groups.contains_key(group) {
                return Err(ErrorCode::Group001.into());
            }
        }
        let user = self.users.get_mut(id).ok_or(Refusal::NotFound)?;
        user.name = raw.name.unwrap_or_default();
        update_field(&mut user.alias, raw.alias);
        let answer = UpdatedUser {
            id: user.id.clone(),
            email: Some(Sensitive::new(user.email.clone())),
            name: Some(Sensitive::new(user.name.clone())),
            alias: user.alias.clone().map(Sensitive::new),
            target_group_id: target.clone(),
        };
        match target {
            Some(group) if user.service_type == ServiceType::Play => {
                // A PLAY user is re-invited into the group and moves on acceptance.
                let invitee = InviteeRec {
                    email: user.email.clone(),
                    name: user.name.clone(),
                    phone: user.phone.clone(),
                    alias: user.alias.clone(),
                    state: InviteeState::Pending,
                };
                let moves = Some(user.id.clone());
                self.record_invitation(None, Target::Group(group), vec![invitee], moves, now)?;
            }
            Some(group) => user.group = Some(group),
            None => {}
        }
        Ok(answer)
    }

    pub(crate) fn delete_user(&mut self, id: &UserId) -> Answer<()> {
        self.users.remove(id).map(drop).ok_or(Refusal::NotFound)
    }

    // -- what the user and NUGU do ------------------------------------------------------------

    /// The user behind `email` logs in with a NUGU ID from the latest invitation email.
    pub(crate) fn accept(&mut self, email: &str, now: SystemTime) -> Result<UserId, EmulatorError> {
        self.accept_with(email, now, None)
    }

    /// Accepts, with the token a publisher made in an account link (full edition).
    fn accept_with(
        &mut self,
        email: &str,
        now: SystemTime,
        linked_token: Option<String>,
    ) -> Result<UserId, EmulatorError> {
        let wanted = key(email);
        let (inv_id, index) =
            self.invitations
                .iter()
                .rev()
                .find_map(|(id, inv)| {
                    let index = inv.invitees.iter().position(|i| {
                        i.state == InviteeState::Pending && key(&i.email) == wanted
                    })?;
                    Some((*id, index))
                })
                .ok_or(EmulatorError::NoPendingInvitation)?;
        let serial = self.next();
        let Some(inv) = self.invitations.get_mut(&inv_id) else {
            return Err(EmulatorError::NoPendingInvitation);
        };
        if expired(inv.sent, now) {
            return Err(EmulatorError::InvitationExpired);
        }
        let invitee = &mut inv.invitees[index];
        invitee.state = InviteeState::Accepted;
        let (group, plays) = match &inv.target {
            Target::Group(id) if self.groups.contains_key(id) => (Some(id.clone()), Vec::new()),
            Target::Group(_) => (None, Vec::new()),
            Target::Plays(plays) => (None, plays.clone()),
        };
        let existing = inv
            .moves
            .clone()
            .or_else(|| {
                self.users
                    .values()
                    .find(|u| key(&u.email) == wanted)
                    .map(|u| u.id.clone())
            })
            .filter(|id| self.users.contains_key(id));
        let id = existing.unwrap_or_else(|| UserId::new(format!("U{serial:06}")));
        // The type follows how the invitation was accepted, not the edition: NUGU makes no
        // token, so a user who accepts without linking agreed to the plays only (PLAY, token
        // `null`); a linked user invited again keeps their link.
        let (service_type, token) = match linked_token {
            Some(token) => (ServiceType::Service, Some(token)),
            None => self
                .users
                .get(&id)
                .filter(|u| u.token.is_some())
                .map_or((ServiceType::Play, None), |u| {
                    (u.service_type.clone(), u.token.clone())
                }),
        };
        // A user invited again keeps their devices and consent.
        let (api_agreed, devices) = self
            .users
            .get(&id)
            .map_or((true, Vec::new()), |u| (u.api_agreed, u.devices.clone()));
        let record = UserRec {
            id: id.clone(),
            email: invitee.email.clone(),
            name: invitee.name.clone(),
            phone: invitee.phone.clone(),
            alias: invitee.alias.clone(),
            group,
            plays,
            service_type,
            token,
            accepted: now,
            api_agreed,
            devices,
        };
        self.users.insert(id.clone(), record);
        Ok(id)
    }

    /// The user revokes the permission in the NUGU app: they are no longer a Biz user.
    pub(crate) fn revoke(&mut self, email: &str) -> Result<(), EmulatorError> {
        let id = self
            .user_by_email(email)
            .map(|u| u.id.clone())
            .ok_or(EmulatorError::NotEnrolled)?;
        self.users.remove(&id);
        Ok(())
    }

    /// `profile.privatePlay` as NUGU sends it for `email`'s speaker `device` using `play`.
    pub(crate) fn profile(
        &self,
        email: &str,
        play: &str,
        device: &str,
    ) -> Result<Value, EmulatorError> {
        let user = self
            .user_by_email(email)
            .ok_or(EmulatorError::NotEnrolled)?;
        if !self.plays_of(user).iter().any(|p| p == play) {
            return Err(EmulatorError::NotEntitled);
        }
        let mut enrolled = json!({
            "name": user.name,
            "phoneNo": user.phone,
            "email": user.email,
        });
        if let Some(alias) = &user.alias {
            enrolled["tag"] = json!(alias);
        }
        if self.edition == Edition::Full {
            if let Some(token) = &user.token {
                enrolled["userToken"] = json!(token);
            }
            enrolled["serviceType"] = json!(user.service_type.as_str());
        }
        let mut profile = speaker(&key(&user.email), device);
        profile["enrolledUser"] = enrolled;
        Ok(profile)
    }

    /// `profile.privatePlay` as NUGU sends it for the Biz-dedicated device `device` using
    /// `play`: the speaker alone, no enrolled user.
    pub(crate) fn dedicated_profile(
        &self,
        play: &str,
        device: &str,
    ) -> Result<Value, EmulatorError> {
        let mut devices = self.shared_groups.iter().flat_map(|g| &g.devices);
        if !devices.any(|d| d.unique_name == device) {
            return Err(EmulatorError::UnknownDevice);
        }
        if self.plays.get(play) != Some(&PlayStatus::InService) {
            return Err(EmulatorError::NotEntitled);
        }
        Ok(speaker(&format!("dedicated:{device}"), device))
    }
}

/// `profile.privatePlay` without `enrolledUser`: the speaker `device` of the account `account`.
fn speaker(account: &str, device: &str) -> Value {
    json!({
        "deviceUniqueId": device,
        "userKey": opaque("user.0.", account),
        "deviceKey": opaque("device.0.", device),
    })
}

impl State {
    // -- devices and consent -------------------------------------------------------------------

    fn user_mut_by_email(&mut self, email: &str) -> Result<&mut UserRec, EmulatorError> {
        let email = key(email);
        self.users
            .values_mut()
            .find(|u| key(&u.email) == email)
            .ok_or(EmulatorError::NotEnrolled)
    }

    pub(crate) fn add_device(
        &mut self,
        email: &str,
        device: DeviceRec,
    ) -> Result<(), EmulatorError> {
        let user = self.user_mut_by_email(email)?;
        user.devices.retain(|d| d.unique_name != device.unique_name);
        user.devices.push(device);
        Ok(())
    }

    pub(crate) fn set_api_agreement(
        &mut self,
        email: &str,
        agreed: bool,
    ) -> Result<(), EmulatorError> {
        self.user_mut_by_email(email)?.api_agreed = agreed;
        Ok(())
    }

    pub(crate) fn add_shared_group(&mut self, name: &str, devices: Vec<DeviceRec>) -> String {
        let serial = self.next();
        let token = opaque("SG", &format!("{serial}/{name}"));
        self.shared_groups.push(SharedGroupRec {
            name: name.to_owned(),
            token: token.clone(),
            devices,
        });
        token
    }

    pub(crate) fn shared_groups(&self) -> SharedDeviceGroupList {
        SharedDeviceGroupList {
            groups: self
                .shared_groups
                .iter()
                .map(|g| SharedDeviceGroup {
                    name: Some(g.name.clone()),
                    token: Sensitive::new(g.token.clone()),
                    devices: g
                        .devices
                        .iter()
                        .map(|d| SharedDevice {
                            unique_name: Some(d.unique_name.clone()),
                            token: Some(Sensitive::new(d.token.clone())),
                            name: Some(d.unique_name.clone()),
                            alias: d.alias.clone(),
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    pub(crate) fn heard(&self, unique_name: &str) -> Vec<Announcement> {
        self.heard.get(unique_name).cloned().unwrap_or_default()
    }

    // -- announcements -------------------------------------------------------------------------

    /// Checks an announcement body as the API does, and answers it typed. `disallowed` is the
    /// code of a play the API does not allow: `V1ANN301` on the user and shared-device pages,
    /// `V1ANN204` on the group page, which lists it under that code.
    fn announcement(&self, body: &[u8], disallowed: ErrorCode) -> Answer<Announcement> {
        let value: Value =
            serde_json::from_slice(body).map_err(|_| Refusal::from(ErrorCode::V1ann001))?;
        let object = value.as_object().ok_or(ErrorCode::V1ann001)?;
        let text =
            |v: &'_ Value, name: &str| v.get(name).and_then(Value::as_str).map(str::to_owned);
        let number = |v: &Value, name: &str| {
            v.get(name).filter(|n| !n.is_null()).map(|n| match n {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            })
        };
        let play = object.get("playServiceId").and_then(Value::as_str);
        let tts = object.get("tts").filter(|t| t.is_object());
        let display = object.get("display").filter(|d| d.is_object());
        let tts_text = tts.map(|t| text(t, "text"));
        let display_fields =
            display.map(|d| ["type", "title", "header", "body"].map(|n| text(d, n)));
        let view = AnnouncementView {
            play_service_id: play,
            tts: tts.map(|t| TtsView {
                text: tts_text.as_ref().and_then(|t| t.as_deref()),
                speed: number(t, "speed"),
                pause1: number(t, "pause1"),
                pause2: number(t, "pause2"),
            }),
            display: display_fields
                .as_ref()
                .map(|[kind, title, header, body]| DisplayView {
                    kind: kind.as_deref(),
                    title: title.as_deref(),
                    header: header.as_deref(),
                    body: body.as_deref(),
                }),
        };
        validate::announcement_fields(&view)?;
        let play = play.unwrap_or_default();
        if self.plays.get(play) != Some(&PlayStatus::InService) {
            return Err(disallowed.into());
        }
        let as_u16 = |n: Option<Option<i64>>| n.flatten().and_then(|n| u16::try_from(n).ok());
        Ok(Announcement {
            play_service_id: play.to_owned(),
            tts: tts.map(|t| Tts {
                text: text(t, "text").unwrap_or_default(),
                speed: as_u16(number(t, "speed")),
                pause1: as_u16(number(t, "pause1")),
                pause2: as_u16(number(t, "pause2")),
            }),
            display: display.map(|d| {
                let [kind, title, header, body] =
                    ["type", "title", "header", "body"].map(|n| text(d, n).unwrap_or_default());
                let mut shown = Display::new(kind.as_str().into(), title, header, body);
                shown.footer = text(d, "footer");
                shown.image = text(d, "image");
                shown.grammar_guide = d
                    .get("grammarGuide")
                    .and_then(Value::as_array)
                    .map(|guide| {
                        guide
                            .iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default();
                shown
            }),
        })
    }

    /// Plays `announcement` on a device: it hears it if it is reachable.
    fn play_on(&mut self, device: &DeviceRec, announcement: &Announcement) -> DeviceResultCode {
        let code = device.state.code();
        if code == DeviceResultCode::Ok {
            self.heard
                .entry(device.unique_name.clone())
                .or_default()
                .push(announcement.clone());
        }
        code
    }

    fn announce_user(
        &mut self,
        id: &UserId,
        announcement: &Announcement,
    ) -> UserAnnouncementResult {
        let Some(user) = self.users.get(id) else {
            return UserAnnouncementResult {
                id: Some(id.clone()),
                name: None,
                email: None,
                result_code: AnnouncementResultCode::Fail,
                device_results: Vec::new(),
            };
        };
        let (agreed, devices) = (Self::api_agreed(user), user.devices.clone());
        let mut result = UserAnnouncementResult {
            id: Some(user.id.clone()),
            name: Some(Sensitive::new(user.name.clone())),
            email: Some(Sensitive::new(user.email.clone())),
            result_code: AnnouncementResultCode::NotAgree,
            device_results: Vec::new(),
        };
        if !agreed {
            return result;
        }
        let codes: Vec<DeviceResultCode> = devices
            .iter()
            .map(|d| self.play_on(d, announcement))
            .collect();
        let ok = codes.iter().filter(|c| **c == DeviceResultCode::Ok).count();
        result.result_code = match (codes.len(), ok) {
            (0, _) => AnnouncementResultCode::NoDevice,
            (n, ok) if ok == n => AnnouncementResultCode::Ok,
            (_, 0) => AnnouncementResultCode::Fail,
            _ => AnnouncementResultCode::SomeOk,
        };
        result.device_results = codes
            .into_iter()
            .map(|code| DeviceResult { code })
            .collect();
        result
    }

    /// `POST /api/v2/enrolledUser/user/{userApiToken}/announcement`.
    pub(crate) fn announce_to_user(&mut self, token: &str, body: &[u8]) -> Answer<Delivery> {
        let announcement = self.announcement(body, ErrorCode::V1ann301)?;
        let id = self
            .users
            .values()
            .find(|u| u.token.as_deref() == Some(token))
            .map(|u| u.id.clone())
            .ok_or(Refusal::NotFound)?;
        Ok(Delivery::User(self.announce_user(&id, &announcement)))
    }

    /// `POST /api/v1/enrolledUser/group/{groupApiToken}/announcement`.
    pub(crate) fn announce_to_group(&mut self, token: &str, body: &[u8]) -> Answer<Delivery> {
        let announcement = self.announcement(body, ErrorCode::V1ann204)?;
        let group = self
            .groups
            .values()
            .find(|g| g.token == token)
            .map(|g| g.id.clone())
            .ok_or(Refusal::NotFound)?;
        let members: Vec<UserId> = self.members(Some(&group)).map(|u| u.id.clone()).collect();
        let users = members
            .iter()
            .map(|id| self.announce_user(id, &announcement))
            .collect();
        Ok(Delivery::Group(GroupAnnouncementResult { users }))
    }

    /// `POST /api/v1/sharedDevice/group/{groupApiToken}/announcement`.
    pub(crate) fn announce_to_shared(&mut self, token: &str, body: &[u8]) -> Answer<Delivery> {
        let announcement = self.announcement(body, ErrorCode::V1ann301)?;
        let devices = self
            .shared_groups
            .iter()
            .find(|g| g.token == token)
            .map(|g| g.devices.clone())
            .ok_or(Refusal::NotFound)?;
        let devices = devices
            .iter()
            .map(|d| SharedDeviceResult {
                unique_name: Some(d.unique_name.clone()),
                token: Some(Sensitive::new(d.token.clone())),
                result_code: self.play_on(d, &announcement),
            })
            .collect();
        Ok(Delivery::Shared(SharedDeviceAnnouncementResult { devices }))
    }

    // -- account linking -----------------------------------------------------------------------

    /// Starts a link for `email`: answers the `status` to send the user with.
    pub(crate) fn start_link(
        &mut self,
        email: &str,
        now: SystemTime,
    ) -> Result<String, EmulatorError> {
        if self.edition != Edition::Full {
            return Err(EmulatorError::LinkUnavailable);
        }
        let wanted = key(email);
        let pending = self
            .invitations
            .values()
            .rev()
            .find(|inv| {
                inv.invitees
                    .iter()
                    .any(|i| i.state == InviteeState::Pending && key(&i.email) == wanted)
            })
            .ok_or(EmulatorError::NoPendingInvitation)?;
        if expired(pending.sent, now) {
            return Err(EmulatorError::InvitationExpired);
        }
        // A new visit restarts the user's link: an earlier one is abandoned.
        self.links.retain(|_, link| key(&link.email) != wanted);
        let serial = self.next();
        let status = opaque("ST", &format!("{serial}/{wanted}"));
        self.links.insert(
            status.clone(),
            LinkRec {
                email: email.to_owned(),
                posted: None,
            },
        );
        Ok(status)
    }

    /// The `status` of the link in progress for `email`, if any.
    pub(crate) fn link_of(&self, email: &str) -> Option<String> {
        let wanted = key(email);
        self.links
            .iter()
            .find(|(_, link)| key(&link.email) == wanted)
            .map(|(status, _)| status.clone())
    }

    /// The publisher posts to `callBack`. `false`: no link with this `status`.
    pub(crate) fn link_posted(
        &mut self,
        status: &str,
        token: String,
        confirm: Option<String>,
    ) -> bool {
        match self.links.get_mut(status) {
            Some(link) => {
                link.posted = Some((token, confirm));
                true
            }
            None => false,
        }
    }

    /// After the publisher's page answered: enrol the user with the posted token, refuse a
    /// token another email has (`CONFLICT`), or drop an abandoned link.
    pub(crate) fn finish_link(&mut self, status: &str, now: SystemTime) -> LinkDecision {
        let Some(link) = self.links.remove(status) else {
            return LinkDecision {
                result: Err(EmulatorError::LinkAbandoned),
                confirmation: None,
            };
        };
        let Some((token, confirm)) = link.posted else {
            return LinkDecision {
                result: Err(EmulatorError::LinkAbandoned),
                confirmation: None,
            };
        };
        let wanted = key(&link.email);
        let taken = self
            .users
            .values()
            .any(|u| u.token.as_deref() == Some(token.as_str()) && key(&u.email) != wanted);
        let (result, code) = if taken {
            (Err(EmulatorError::TokenConflict), LinkResultCode::Conflict)
        } else {
            match self.accept_with(&link.email, now, Some(token.clone())) {
                Ok(id) => (Ok(id), LinkResultCode::Ok),
                // The invitation ended meanwhile: nothing to confirm.
                Err(err) => {
                    return LinkDecision {
                        result: Err(err),
                        confirmation: None,
                    }
                }
            }
        };
        LinkDecision {
            result,
            confirmation: confirm.map(|url| (url, token, code)),
        }
    }
}

/// An optional text of an update: not sent (or `null`) leaves it as it is, as the user update
/// page says of `targetGroupId`, the only field whose omission the pages explain; reading
/// omission as "emptied" would wipe an alias NUGU sends to plays as `enrolledUser.tag`. A blank
/// text removes it.
fn update_field(field: &mut Option<String>, sent: Option<String>) {
    match sent {
        None => {}
        Some(text) if text.trim().is_empty() => *field = None,
        Some(text) => *field = Some(text),
    }
}

fn expired(sent: SystemTime, now: SystemTime) -> bool {
    now.duration_since(sent)
        .is_ok_and(|age| age > INVITATION_VALIDITY)
}

fn total_pages(total: usize, size: usize) -> u32 {
    total.div_ceil(size.max(1)) as u32
}

fn page_of<'a, T: 'a>(
    items: impl Iterator<Item = &'a T>,
    page: usize,
    size: usize,
) -> impl Iterator<Item = &'a T> {
    items
        .skip(page.saturating_sub(1).saturating_mul(size))
        .take(size)
}
