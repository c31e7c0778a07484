//! The Swedish working-day calendar. Public holidays per Lag (1989:253) om allmänna helgdagar,
//! and the days on which a deadline cannot end per Lag (1930:173) om beräkning av lagstadgad
//! tid: Saturdays, Sundays, public holidays, midsommarafton, julafton and nyårsafton. The rules
//! are those in force from 1990 to 2100 (6 June a holiday from 2005; Whit Monday before 2005).

use chrono::{Datelike, Duration, NaiveDate, Weekday};

/// Easter Sunday of `year` in the Gregorian calendar (the anonymous Gregorian computus).
pub fn easter_sunday(year: i32) -> NaiveDate {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    date(year, month as u32, day as u32)
}

/// The Saturday within `from_day`..=`from_day + 6` of `month` (midsummer and All Saints' Day).
fn saturday_from(year: i32, month: u32, from_day: u32) -> NaiveDate {
    let first = date(year, month, from_day);
    let offset =
        (Weekday::Sat.num_days_from_monday() + 7 - first.weekday().num_days_from_monday()) % 7;
    first + Duration::days(i64::from(offset))
}

fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    // Every call passes a real calendar date.
    NaiveDate::from_ymd_opt(year, month, day).unwrap_or(NaiveDate::MIN)
}

/// Midsommardagen: the Saturday from 20 to 26 June.
pub fn midsummer_day(year: i32) -> NaiveDate {
    saturday_from(year, 6, 20)
}

/// Alla helgons dag: the Saturday from 31 October to 6 November.
pub fn all_saints_day(year: i32) -> NaiveDate {
    saturday_from(year, 10, 31)
}

/// The public holidays of `year` other than Sundays, with their Swedish names, in date order.
pub fn public_holidays(year: i32) -> Vec<(NaiveDate, &'static str)> {
    let easter = easter_sunday(year);
    let mut days = vec![
        (date(year, 1, 1), "Nyårsdagen"),
        (date(year, 1, 6), "Trettondedag jul"),
        (easter - Duration::days(2), "Långfredagen"),
        (easter, "Påskdagen"),
        (easter + Duration::days(1), "Annandag påsk"),
        (date(year, 5, 1), "Första maj"),
        (easter + Duration::days(39), "Kristi himmelsfärdsdag"),
        (easter + Duration::days(49), "Pingstdagen"),
        (midsummer_day(year), "Midsommardagen"),
        (all_saints_day(year), "Alla helgons dag"),
        (date(year, 12, 25), "Juldagen"),
        (date(year, 12, 26), "Annandag jul"),
    ];
    if year >= 2005 {
        days.push((date(year, 6, 6), "Sveriges nationaldag"));
    } else {
        days.push((easter + Duration::days(50), "Annandag pingst"));
    }
    days.sort();
    days
}

/// Whether `day` is a public holiday (Sundays included, as the law counts them).
pub fn is_public_holiday(day: NaiveDate) -> bool {
    day.weekday() == Weekday::Sun || holiday_name(day).is_some()
}

/// The name of the holiday on `day`, if it is one (Sundays not named).
pub fn holiday_name(day: NaiveDate) -> Option<&'static str> {
    public_holidays(day.year())
        .into_iter()
        .find(|(d, _)| *d == day)
        .map(|(_, n)| n)
}

/// Whether a deadline may end on `day`: not a Saturday, Sunday, public holiday, midsommarafton,
/// julafton or nyårsafton.
pub fn is_working_day(day: NaiveDate) -> bool {
    if matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
        return false;
    }
    let (m, d) = (day.month(), day.day());
    if (m, d) == (12, 24) || (m, d) == (12, 31) {
        return false;
    }
    if day == midsummer_day(day.year()) - Duration::days(1) {
        return false;
    }
    holiday_name(day).is_none()
}

/// `day` itself if it is a working day, else the first working day after it.
pub fn next_working_day(day: NaiveDate) -> NaiveDate {
    let mut d = day;
    while !is_working_day(d) {
        d += Duration::days(1);
    }
    d
}

/// The working day `n` working days after `day` (before it, for negative `n`). `day` itself
/// need not be a working day; adding 0 gives the next working day from `day`.
pub fn add_working_days(day: NaiveDate, n: i64) -> NaiveDate {
    let step = if n < 0 { -1 } else { 1 };
    let mut d = day;
    if n == 0 {
        return next_working_day(d);
    }
    let mut left = n.abs();
    while left > 0 {
        d += Duration::days(step);
        if is_working_day(d) {
            left -= 1;
        }
    }
    d
}

/// The number of working days in `(from, to]`, negative when `to` lies before `from`: how many
/// working days remain from `from` until `to`.
pub fn working_days_between(from: NaiveDate, to: NaiveDate) -> i64 {
    if let (Some(a), Some(b)) = (cumulative(from), cumulative(to)) {
        return b - a;
    }
    counted(from, to)
}

/// Working days between two dates by walking the calendar, for dates outside the table.
fn counted(from: NaiveDate, to: NaiveDate) -> i64 {
    let (lo, hi, sign) = if to >= from {
        (from, to, 1)
    } else {
        (to, from, -1)
    };
    let mut n = 0;
    let mut d = lo;
    while d < hi {
        d += Duration::days(1);
        if is_working_day(d) {
            n += 1;
        }
    }
    sign * n
}

/// The first day of the table of cumulative working days (the calendar's rules start in 1990).
const TABLE_START: NaiveDate = match NaiveDate::from_ymd_opt(1990, 1, 1) {
    Some(d) => d,
    None => panic!("1990-01-01 is a date"),
};

/// Working days after 1990-01-01 up to and including `day`, for days up to 2100-12-31: one
/// subtraction answers `working_days_between`, which metrics ask for millions of times.
fn cumulative(day: NaiveDate) -> Option<i64> {
    static TABLE: std::sync::OnceLock<Vec<u32>> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let end = date(2100, 12, 31);
        let mut out = Vec::with_capacity(40_200);
        let (mut d, mut n) = (TABLE_START, 0u32);
        out.push(0);
        while d < end {
            d += Duration::days(1);
            if is_working_day(d) {
                n += 1;
            }
            out.push(n);
        }
        out
    });
    let i = usize::try_from((day - TABLE_START).num_days()).ok()?;
    table.get(i).map(|n| i64::from(*n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    /// Easter Sunday as published (Svenska kyrkan's almanac) for 1990–2030.
    const EASTER: &[&str] = &[
        "1990-04-15",
        "1991-03-31",
        "1992-04-19",
        "1993-04-11",
        "1994-04-03",
        "1995-04-16",
        "1996-04-07",
        "1997-03-30",
        "1998-04-12",
        "1999-04-04",
        "2000-04-23",
        "2001-04-15",
        "2002-03-31",
        "2003-04-20",
        "2004-04-11",
        "2005-03-27",
        "2006-04-16",
        "2007-04-08",
        "2008-03-23",
        "2009-04-12",
        "2010-04-04",
        "2011-04-24",
        "2012-04-08",
        "2013-03-31",
        "2014-04-20",
        "2015-04-05",
        "2016-03-27",
        "2017-04-16",
        "2018-04-01",
        "2019-04-21",
        "2020-04-12",
        "2021-04-04",
        "2022-04-17",
        "2023-04-09",
        "2024-03-31",
        "2025-04-20",
        "2026-04-05",
        "2027-03-28",
        "2028-04-16",
        "2029-04-01",
        "2030-04-21",
    ];

    #[test]
    fn easter_matches_the_almanac() {
        for (i, s) in EASTER.iter().enumerate() {
            assert_eq!(easter_sunday(1990 + i as i32), d(s), "{}", 1990 + i);
        }
        assert_eq!(easter_sunday(2100), d("2100-03-28"));
        assert_eq!(
            easter_sunday(2038),
            d("2038-04-25"),
            "the latest possible date"
        );
        assert_eq!(
            easter_sunday(2285),
            d("2285-03-22"),
            "the earliest possible date"
        );
    }

    /// Every public holiday other than Sundays, as published, for twelve years.
    #[test]
    fn holidays_of_real_years() {
        let table: &[(i32, &[&str])] = &[
            (
                2003,
                &[
                    "2003-01-01",
                    "2003-01-06",
                    "2003-04-18",
                    "2003-04-20",
                    "2003-04-21",
                    "2003-05-01",
                    "2003-05-29",
                    "2003-06-08",
                    "2003-06-09",
                    "2003-06-21",
                    "2003-11-01",
                    "2003-12-25",
                    "2003-12-26",
                ],
            ),
            (
                2004,
                &[
                    "2004-01-01",
                    "2004-01-06",
                    "2004-04-09",
                    "2004-04-11",
                    "2004-04-12",
                    "2004-05-01",
                    "2004-05-20",
                    "2004-05-30",
                    "2004-05-31",
                    "2004-06-26",
                    "2004-11-06",
                    "2004-12-25",
                    "2004-12-26",
                ],
            ),
            (
                2005,
                &[
                    "2005-01-01",
                    "2005-01-06",
                    "2005-03-25",
                    "2005-03-27",
                    "2005-03-28",
                    "2005-05-01",
                    "2005-05-05",
                    "2005-05-15",
                    "2005-06-06",
                    "2005-06-25",
                    "2005-11-05",
                    "2005-12-25",
                    "2005-12-26",
                ],
            ),
            (
                2019,
                &[
                    "2019-01-01",
                    "2019-01-06",
                    "2019-04-19",
                    "2019-04-21",
                    "2019-04-22",
                    "2019-05-01",
                    "2019-05-30",
                    "2019-06-06",
                    "2019-06-09",
                    "2019-06-22",
                    "2019-11-02",
                    "2019-12-25",
                    "2019-12-26",
                ],
            ),
            (
                2020,
                &[
                    "2020-01-01",
                    "2020-01-06",
                    "2020-04-10",
                    "2020-04-12",
                    "2020-04-13",
                    "2020-05-01",
                    "2020-05-21",
                    "2020-05-31",
                    "2020-06-06",
                    "2020-06-20",
                    "2020-10-31",
                    "2020-12-25",
                    "2020-12-26",
                ],
            ),
            (
                2021,
                &[
                    "2021-01-01",
                    "2021-01-06",
                    "2021-04-02",
                    "2021-04-04",
                    "2021-04-05",
                    "2021-05-01",
                    "2021-05-13",
                    "2021-05-23",
                    "2021-06-06",
                    "2021-06-26",
                    "2021-11-06",
                    "2021-12-25",
                    "2021-12-26",
                ],
            ),
            (
                2022,
                &[
                    "2022-01-01",
                    "2022-01-06",
                    "2022-04-15",
                    "2022-04-17",
                    "2022-04-18",
                    "2022-05-01",
                    "2022-05-26",
                    "2022-06-05",
                    "2022-06-06",
                    "2022-06-25",
                    "2022-11-05",
                    "2022-12-25",
                    "2022-12-26",
                ],
            ),
            (
                2023,
                &[
                    "2023-01-01",
                    "2023-01-06",
                    "2023-04-07",
                    "2023-04-09",
                    "2023-04-10",
                    "2023-05-01",
                    "2023-05-18",
                    "2023-05-28",
                    "2023-06-06",
                    "2023-06-24",
                    "2023-11-04",
                    "2023-12-25",
                    "2023-12-26",
                ],
            ),
            (
                2024,
                &[
                    "2024-01-01",
                    "2024-01-06",
                    "2024-03-29",
                    "2024-03-31",
                    "2024-04-01",
                    "2024-05-01",
                    "2024-05-09",
                    "2024-05-19",
                    "2024-06-06",
                    "2024-06-22",
                    "2024-11-02",
                    "2024-12-25",
                    "2024-12-26",
                ],
            ),
            (
                2025,
                &[
                    "2025-01-01",
                    "2025-01-06",
                    "2025-04-18",
                    "2025-04-20",
                    "2025-04-21",
                    "2025-05-01",
                    "2025-05-29",
                    "2025-06-06",
                    "2025-06-08",
                    "2025-06-21",
                    "2025-11-01",
                    "2025-12-25",
                    "2025-12-26",
                ],
            ),
            (
                2026,
                &[
                    "2026-01-01",
                    "2026-01-06",
                    "2026-04-03",
                    "2026-04-05",
                    "2026-04-06",
                    "2026-05-01",
                    "2026-05-14",
                    "2026-05-24",
                    "2026-06-06",
                    "2026-06-20",
                    "2026-10-31",
                    "2026-12-25",
                    "2026-12-26",
                ],
            ),
            (
                2027,
                &[
                    "2027-01-01",
                    "2027-01-06",
                    "2027-03-26",
                    "2027-03-28",
                    "2027-03-29",
                    "2027-05-01",
                    "2027-05-06",
                    "2027-05-16",
                    "2027-06-06",
                    "2027-06-26",
                    "2027-11-06",
                    "2027-12-25",
                    "2027-12-26",
                ],
            ),
        ];
        for (year, expected) in table {
            let got: Vec<NaiveDate> = public_holidays(*year).into_iter().map(|(d, _)| d).collect();
            let want: Vec<NaiveDate> = expected.iter().map(|s| d(s)).collect();
            assert_eq!(got, want, "{year}");
        }
    }

    #[test]
    fn the_eves_and_weekends_are_not_working_days() {
        for s in [
            "2026-06-19",
            "2026-12-24",
            "2026-12-31",
            "2025-06-20",
            "2024-06-21",
            "2026-11-28",
            "2026-11-29",
        ] {
            assert!(!is_working_day(d(s)), "{s}");
        }
        // Ordinary weekdays, and days that look special but are not: 6 June 2003, Whit Monday 2005,
        // Easter Saturday is a Saturday anyway, the day after All Saints' is a Sunday.
        for s in [
            "2026-11-27",
            "2003-06-06",
            "2005-05-16",
            "2026-06-18",
            "2026-12-23",
            "2026-12-30",
            "2026-04-07",
        ] {
            assert!(is_working_day(d(s)), "{s}");
        }
        assert!(!is_working_day(d("2004-05-31")), "Whit Monday before 2005");
        assert!(!is_working_day(d("2021-01-06")));
    }

    #[test]
    fn moving_to_the_next_working_day() {
        assert_eq!(
            next_working_day(d("2026-12-24")),
            d("2026-12-28"),
            "julafton, juldagen, annandag jul, a Sunday"
        );
        assert_eq!(
            next_working_day(d("2026-12-31")),
            d("2027-01-04"),
            "nyårsafton, nyårsdagen, a weekend"
        );
        assert_eq!(
            next_working_day(d("2026-04-03")),
            d("2026-04-07"),
            "Good Friday to the Tuesday after Easter"
        );
        assert_eq!(
            next_working_day(d("2026-06-19")),
            d("2026-06-22"),
            "midsommarafton"
        );
        assert_eq!(next_working_day(d("2026-11-27")), d("2026-11-27"));
    }

    #[test]
    fn adding_and_counting_working_days() {
        assert_eq!(add_working_days(d("2026-12-23"), 1), d("2026-12-28"));
        assert_eq!(add_working_days(d("2026-12-28"), -1), d("2026-12-23"));
        assert_eq!(
            add_working_days(d("2026-03-30"), 5),
            d("2026-04-08"),
            "across Easter"
        );
        assert_eq!(working_days_between(d("2026-03-30"), d("2026-04-08")), 5);
        assert_eq!(working_days_between(d("2026-04-08"), d("2026-03-30")), -5);
        assert_eq!(working_days_between(d("2026-11-27"), d("2026-11-27")), 0);
        // December 2026: 23 weekdays, less 24, 25, 31 December → 20 working days (1–31 Dec).
        assert_eq!(working_days_between(d("2026-11-30"), d("2026-12-31")), 20);
    }

    fn any_date() -> impl Strategy<Value = NaiveDate> {
        (0i64..(111 * 366))
            .prop_map(|n| d("1990-01-01") + Duration::days(n))
            .prop_filter("to 2100", |x| x.year() <= 2100)
    }

    proptest! {
        #[test]
        fn the_table_counts_as_walking_the_calendar_does(a in any_date(), b in any_date()) {
            prop_assert_eq!(working_days_between(a, b), counted(a, b));
        }

        #[test]
        fn adding_n_then_counting_back_gives_n(start in any_date(), n in 0i64..400) {
            let end = add_working_days(start, n);
            prop_assert!(is_working_day(end));
            if n > 0 {
                prop_assert_eq!(working_days_between(start, end), n);
            }
        }

        #[test]
        fn subtracting_undoes_adding_from_a_working_day(start in any_date(), n in 1i64..300) {
            let s = next_working_day(start);
            prop_assert_eq!(add_working_days(add_working_days(s, n), -n), s);
        }

        #[test]
        fn the_next_working_day_is_a_working_day_at_most_five_days_on(day in any_date()) {
            let next = next_working_day(day);
            prop_assert!(is_working_day(next));
            prop_assert!(next >= day && next - day <= Duration::days(5));
            let mut x = day;
            while x < next {
                prop_assert!(!is_working_day(x));
                x += Duration::days(1);
            }
        }

        #[test]
        fn every_year_has_its_holidays_on_the_right_weekdays(year in 1990i32..=2100) {
            prop_assert_eq!(easter_sunday(year).weekday(), Weekday::Sun);
            prop_assert_eq!(midsummer_day(year).weekday(), Weekday::Sat);
            prop_assert_eq!(all_saints_day(year).weekday(), Weekday::Sat);
            prop_assert_eq!((easter_sunday(year) + Duration::days(39)).weekday(), Weekday::Thu);
            let n = public_holidays(year).len();
            prop_assert_eq!(n, 13);
        }
    }
}
