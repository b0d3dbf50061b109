//! Paging: the list calls answer one page at a time; [`pages`] walks all of them as a stream.

use std::future::Future;
use std::num::NonZeroU32;

use futures_core::Stream;
use futures_util::stream;

use super::error::BizError;
use super::model::{GroupPage, GroupSummary, UserPage, UserSummary};

/// Which page to ask for: `page` starts at 1; the API's default size is 20.
///
/// ```
/// use nugu_proxy::biz::Page;
/// let page = Page::first().size(50);
/// assert_eq!((page.number(), page.page_size()), (1, 50));
/// assert_eq!(page.next().number(), 2);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Page {
    number: NonZeroU32,
    size: NonZeroU32,
}

impl Page {
    /// The API's default page size.
    pub const DEFAULT_SIZE: u32 = 20;

    /// Page 1 of the default size.
    pub fn first() -> Self {
        Self {
            number: NonZeroU32::MIN,
            size: NonZeroU32::new(Self::DEFAULT_SIZE).unwrap_or(NonZeroU32::MIN),
        }
    }

    /// Page `number` (1-based; 0 reads as 1).
    pub fn new(number: u32) -> Self {
        Self {
            number: NonZeroU32::new(number).unwrap_or(NonZeroU32::MIN),
            ..Self::first()
        }
    }

    /// The same page number with `size` entries per page (0 reads as 1).
    pub fn size(self, size: u32) -> Self {
        Self {
            size: NonZeroU32::new(size).unwrap_or(NonZeroU32::MIN),
            ..self
        }
    }

    /// The page number, from 1.
    pub fn number(&self) -> u32 {
        self.number.get()
    }

    /// Entries per page.
    pub fn page_size(&self) -> u32 {
        self.size.get()
    }

    /// The page after this one.
    pub fn next(self) -> Self {
        Self {
            number: self.number.saturating_add(1),
            ..self
        }
    }
}

impl Default for Page {
    fn default() -> Self {
        Self::first()
    }
}

/// An answer that is one page of a longer list.
pub trait Paged {
    /// What the list holds.
    type Item;
    /// How many pages the list has.
    fn total_pages(&self) -> u32;
    /// This page's entries.
    fn into_items(self) -> Vec<Self::Item>;
}

impl Paged for GroupPage {
    type Item = GroupSummary;

    fn total_pages(&self) -> u32 {
        self.total_pages
    }

    fn into_items(self) -> Vec<GroupSummary> {
        self.groups
    }
}

impl Paged for UserPage {
    type Item = UserSummary;

    fn total_pages(&self) -> u32 {
        self.total_pages
    }

    fn into_items(self) -> Vec<UserSummary> {
        self.users
    }
}

/// Every entry of every page, fetching page after page with `fetch` from `start`.
///
/// It stops after the last page (`totalPages`), at the first empty page (so a wrong
/// `totalPages` cannot make it loop), and after the first error, which it yields.
pub fn pages<P, F, Fut>(start: Page, fetch: F) -> impl Stream<Item = Result<P::Item, BizError>>
where
    P: Paged,
    F: FnMut(Page) -> Fut,
    Fut: Future<Output = Result<P, BizError>>,
{
    struct Walk<F, I> {
        fetch: F,
        next: Option<Page>,
        buffered: std::vec::IntoIter<I>,
    }
    let walk = Walk {
        fetch,
        next: Some(start),
        buffered: Vec::new().into_iter(),
    };
    stream::unfold(walk, |mut walk| async move {
        loop {
            if let Some(item) = walk.buffered.next() {
                return Some((Ok(item), walk));
            }
            let page = walk.next.take()?;
            match (walk.fetch)(page).await {
                Err(err) => return Some((Err(err), walk)),
                Ok(answer) => {
                    let more = page.number() < answer.total_pages();
                    let items = answer.into_items();
                    if more && !items.is_empty() {
                        walk.next = Some(page.next());
                    }
                    walk.buffered = items.into_iter();
                }
            }
        }
    })
}
