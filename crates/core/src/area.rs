//! Authority areas (myndighetsområden): the unit NKI is measured and reported on.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Area {
    BuildingPermit,
    EnvironmentHealth,
    FoodControl,
    ServingLicence,
    FireSafety,
    LandUse,
    Other,
}

crate::text_enum!(Area, "area", {
    BuildingPermit => "building_permit",
    EnvironmentHealth => "environment_health",
    FoodControl => "food_control",
    ServingLicence => "serving_licence",
    FireSafety => "fire_safety",
    LandUse => "land_use",
    Other => "other",
});

impl Area {
    /// The Swedish name shown to users.
    pub fn label_sv(self) -> &'static str {
        match self {
            Area::BuildingPermit => "Bygglov",
            Area::EnvironmentHealth => "Miljö- och hälsoskydd",
            Area::FoodControl => "Livsmedelskontroll",
            Area::ServingLicence => "Serveringstillstånd",
            Area::FireSafety => "Brandskydd",
            Area::LandUse => "Markupplåtelse",
            Area::Other => "Övrigt",
        }
    }

    /// The case types the law distinguishes within the area, the first being the default.
    /// Only building cases have them today: a permit (lov, förhandsbesked) and a notification
    /// (anmälan) run on different statutory deadlines.
    pub fn case_types(self) -> &'static [&'static str] {
        match self {
            Area::BuildingPermit => &["permit", "notification"],
            _ => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_forms_round_trip_and_match_serde() {
        for a in Area::ALL {
            assert_eq!(a.as_str().parse::<Area>(), Ok(*a));
            assert_eq!(
                serde_json::to_value(a).unwrap(),
                serde_json::json!(a.as_str())
            );
        }
    }

    #[test]
    fn unknown_area_names_the_choices() {
        let err = "bygglov".parse::<Area>().unwrap_err();
        assert!(err.to_string().contains("building_permit"), "{err}");
    }
}
