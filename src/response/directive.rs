//! Directives a response can carry: AudioPlayer `Play`, `Stop`, `Pause`, or any other as JSON.

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

/// A directive in a response's `directives`.
///
/// ```
/// use nugu_proxy::response::{AudioStream, Directive};
///
/// let play = Directive::audio_play(
///     AudioStream::new("https://cdn.example.com/briefing.m4a", "briefing-2026-11-22")
///         .progress_report(10_000, 60_000),
/// );
/// let json = serde_json::to_value(&play).unwrap();
/// assert_eq!(json["type"], "AudioPlayer.Play");
/// assert_eq!(json["audioItem"]["stream"]["offsetInMilliseconds"], 0);
/// assert_eq!(serde_json::to_value(Directive::audio_stop()).unwrap()["type"], "AudioPlayer.Stop");
/// ```
#[derive(Clone, Debug)]
pub struct Directive(Kind);

#[derive(Clone, Debug)]
enum Kind {
    AudioPlay(AudioStream),
    AudioStop,
    AudioPause,
    Custom(serde_json::Value),
}

impl Directive {
    /// `AudioPlayer.Play`: stream `stream` on the speaker.
    pub fn audio_play(stream: AudioStream) -> Self {
        Directive(Kind::AudioPlay(stream))
    }

    /// `AudioPlayer.Stop`: stop playback.
    pub fn audio_stop() -> Self {
        Directive(Kind::AudioStop)
    }

    /// `AudioPlayer.Pause`: pause playback.
    pub fn audio_pause() -> Self {
        Directive(Kind::AudioPause)
    }

    /// Any other directive, written as given (it should be an object with a `type`).
    ///
    /// ```
    /// use nugu_proxy::response::Directive;
    ///
    /// let d = Directive::custom(serde_json::json!({"type": "Display.Template", "token": "t"}));
    /// assert_eq!(serde_json::to_value(d).unwrap()["type"], "Display.Template");
    /// ```
    pub fn custom(directive: serde_json::Value) -> Self {
        Directive(Kind::Custom(directive))
    }
}

impl Serialize for Directive {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let simple = |serializer: S, kind: &str| {
            let mut map = serializer.serialize_map(Some(1))?;
            map.serialize_entry("type", kind)?;
            map.end()
        };
        match &self.0 {
            Kind::AudioPlay(stream) => {
                let mut map = serializer.serialize_map(Some(2))?;
                map.serialize_entry("type", "AudioPlayer.Play")?;
                map.serialize_entry("audioItem", &AudioItem::new(stream))?;
                map.end()
            }
            Kind::AudioStop => simple(serializer, "AudioPlayer.Stop"),
            Kind::AudioPause => simple(serializer, "AudioPlayer.Pause"),
            Kind::Custom(value) => value.serialize(serializer),
        }
    }
}

#[derive(Serialize)]
struct AudioItem<'a> {
    stream: &'a AudioStream,
    metadata: Empty,
}

/// `metadata` is reserved by NUGU and sent as `{}`.
#[derive(Serialize)]
struct Empty {}

impl<'a> AudioItem<'a> {
    fn new(stream: &'a AudioStream) -> Self {
        Self {
            stream,
            metadata: Empty {},
        }
    }
}

/// The stream of an `AudioPlayer.Play` directive (`audioItem.stream`).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AudioStream {
    url: String,
    offset_in_milliseconds: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    progress_report: Option<ProgressReport>,
    token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    expected_previous_token: Option<String>,
}

/// `progressReport`: the delay and the interval are each optional (the AudioPlayer page marks
/// both `N`).
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct ProgressReport {
    #[serde(skip_serializing_if = "Option::is_none")]
    progress_report_delay_in_milliseconds: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    progress_report_interval_in_milliseconds: Option<u64>,
}

impl AudioStream {
    /// A stream of `url` (HLS mp3 or MP4/AAC over HTTP), identified by `token`, unique per
    /// content. Playback starts at the beginning.
    pub fn new(url: impl Into<String>, token: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            offset_in_milliseconds: 0,
            progress_report: None,
            token: token.into(),
            expected_previous_token: None,
        }
    }

    /// Start playback at `offset` milliseconds.
    pub fn offset_ms(mut self, offset: u64) -> Self {
        self.offset_in_milliseconds = offset;
        self
    }

    /// Ask for `ProgressReportDelayElapsed` once at `delay` ms and
    /// `ProgressReportIntervalElapsed` every `interval` ms, both from the content's start.
    pub fn progress_report(self, delay: u64, interval: u64) -> Self {
        self.progress_report_delay(delay)
            .progress_report_interval(interval)
    }

    /// Ask for `ProgressReportDelayElapsed` once, at `delay` ms from the content's start.
    ///
    /// ```
    /// use nugu_proxy::response::{AudioStream, Directive};
    ///
    /// let play = Directive::audio_play(AudioStream::new("https://cdn.example.com/a.m4a", "a").progress_report_delay(30_000));
    /// let json = serde_json::to_value(&play).unwrap();
    /// let report = &json["audioItem"]["stream"]["progressReport"];
    /// assert_eq!(*report, serde_json::json!({"progressReportDelayInMilliseconds": 30_000}));
    /// ```
    pub fn progress_report_delay(mut self, delay: u64) -> Self {
        self.progress_report
            .get_or_insert_with(ProgressReport::default)
            .progress_report_delay_in_milliseconds = Some(delay);
        self
    }

    /// Ask for `ProgressReportIntervalElapsed` every `interval` ms from the content's start.
    ///
    /// ```
    /// use nugu_proxy::response::{AudioStream, Directive};
    ///
    /// let play = Directive::audio_play(AudioStream::new("https://cdn.example.com/a.m4a", "a").progress_report_interval(60_000));
    /// let json = serde_json::to_value(&play).unwrap();
    /// let report = &json["audioItem"]["stream"]["progressReport"];
    /// assert_eq!(*report, serde_json::json!({"progressReportIntervalInMilliseconds": 60_000}));
    /// ```
    pub fn progress_report_interval(mut self, interval: u64) -> Self {
        self.progress_report
            .get_or_insert_with(ProgressReport::default)
            .progress_report_interval_in_milliseconds = Some(interval);
        self
    }

    /// The token of the stream expected to be playing before this one.
    pub fn expected_previous_token(mut self, token: impl Into<String>) -> Self {
        self.expected_previous_token = Some(token.into());
        self
    }
}
