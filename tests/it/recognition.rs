//! Action and authority recognition on realistic titles and leads: government
//! release titles (OFAC, State, OFSI, FCDO, EU Council, UN, Japan, Korea, Canada,
//! Australia), wire and newspaper headlines, headlines in capitals, and items whose
//! summary is empty. Prints the accuracy and fails on any miss, naming it.

use sanctions_watch::summary::recognise::recognise;

/// (source, title, lead, action, authority)
const CASES: &[(&str, &str, &str, &str, Option<&str>)] = &[
    (
        "US Treasury Press Releases",
        "Treasury Sanctions Hizballah Financier and Commodity Smuggling Network",
        "",
        "designation",
        Some("US"),
    ),
    (
        "US Treasury Press Releases",
        "Treasury Targets Houthi Weapons Procurement and Shipping Network",
        "Today, the Department of the Treasury's Office of Foreign Assets Control (OFAC) sanctioned three vessels.",
        "designation",
        Some("US"),
    ),
    (
        "OFAC Recent Actions",
        "Russia-related Designations",
        "",
        "designation",
        Some("US"),
    ),
    (
        "OFAC Recent Actions",
        "IRAN-RELATED DESIGNATIONS",
        "",
        "designation",
        Some("US"),
    ),
    (
        "OFAC Recent Actions",
        "Counter Terrorism Designation Removal",
        "",
        "delisting",
        Some("US"),
    ),
    (
        "OFAC Recent Actions",
        "Venezuela-related Designation Removal",
        "The following individual has been removed from OFAC's SDN List.",
        "delisting",
        Some("US"),
    ),
    (
        "OFAC Recent Actions",
        "Issuance of Russia-related General License",
        "",
        "general_license",
        Some("US"),
    ),
    (
        "OFAC Recent Actions",
        "Publication of Amended Venezuela-related General License 5N",
        "",
        "general_license",
        Some("US"),
    ),
    (
        "OFAC Recent Actions",
        "OFAC Settles with Swedbank Latvia for $3,430,900 Related to Apparent Violations of Ukraine-Related Sanctions",
        "",
        "enforcement",
        Some("US"),
    ),
    (
        "OFAC Recent Actions",
        "Settlement Agreement between OFAC and EFG International AG",
        "",
        "enforcement",
        Some("US"),
    ),
    (
        "OFAC Recent Actions",
        "Counter Terrorism Designations Updates",
        "",
        "amendment",
        Some("US"),
    ),
    (
        "Reuters",
        "US imposes civil penalty on crypto exchange over Iran sanctions violations",
        "",
        "enforcement",
        Some("US"),
    ),
    (
        "BIS Press Releases",
        "Commerce Adds 11 Entities to Entity List for Supplying Drone Components to Russia",
        "",
        "export_control",
        Some("US"),
    ),
    (
        "Reuters",
        "US adds Chinese, UAE firms to trade blacklist over Russian drones",
        "",
        "export_control",
        Some("US"),
    ),
    (
        "Reuters",
        "US tightens export controls on advanced chips to China",
        "",
        "export_control",
        Some("US"),
    ),
    (
        "US State Department",
        "Imposing Sanctions on Vessels Transporting North Korean Munitions to Russia",
        "The Department of State is designating the vessels Angara and Lady R.",
        "designation",
        Some("US"),
    ),
    (
        "NK News",
        "US sanctions Russian ships Angara and Lady R over North Korean arms shipments",
        "",
        "designation",
        Some("US"),
    ),
    (
        "Justice Department",
        "Two Russian nationals charged with sanctions evasion in aircraft parts scheme",
        "The Justice Department said the men were arrested on Tuesday.",
        "enforcement",
        Some("US"),
    ),
    (
        "UK FCDO News",
        "UK announces new sanctions to target Russian shadow fleet and war machine",
        "",
        "designation",
        Some("GB"),
    ),
    (
        "OFSI Financial Sanctions Notices",
        "Financial Sanctions Notice: Russia",
        "The Foreign Secretary has added 50 entries to the consolidated list.",
        "designation",
        Some("GB"),
    ),
    (
        "OFSI Financial Sanctions Notices",
        "Financial Sanctions Notice: Russia – amendment of 8 entries",
        "",
        "amendment",
        Some("GB"),
    ),
    (
        "OFSI Financial Sanctions Notices",
        "OFSI issues general licence INT/2024/4567890 for legal fees",
        "",
        "general_license",
        Some("GB"),
    ),
    (
        "OFSI Financial Sanctions Notices",
        "OFSI imposes monetary penalty on Wise Payments Limited for breach of Russia sanctions",
        "",
        "enforcement",
        Some("GB"),
    ),
    (
        "BBC News",
        "Britain sanctions Moscow Exchange and shadow fleet tankers ahead of G7",
        "",
        "designation",
        Some("GB"),
    ),
    (
        "Sky News",
        "Fancy Bear hackers sanctioned by Britain",
        "",
        "designation",
        Some("GB"),
    ),
    (
        "Council of the EU",
        "Russia's war of aggression against Ukraine: EU adopts 14th package of economic and individual sanctions",
        "",
        "designation",
        Some("EU"),
    ),
    (
        "Council of the EU",
        "Russia: EU prolongs economic sanctions for further 6 months",
        "",
        "amendment",
        Some("EU"),
    ),
    (
        "Council of the EU",
        "Iran: Council lists six individuals and three entities over drone transfers",
        "",
        "designation",
        Some("EU"),
    ),
    (
        "Euronews",
        "EU lifts sanctions on three Russian businessmen after court ruling",
        "",
        "delisting",
        Some("EU"),
    ),
    (
        "Financial Times",
        "EU plans to target Chinese firms in next Russia sanctions package",
        "",
        "other",
        Some("EU"),
    ),
    (
        "UN Press",
        "Security Council ISIL (Da'esh) and Al-Qaida Sanctions Committee Adds One Entry to Its Sanctions List",
        "",
        "designation",
        Some("UN"),
    ),
    (
        "UN Press",
        "Security Council 1718 Committee Removes Two Entries from Its Sanctions List",
        "",
        "delisting",
        Some("UN"),
    ),
    (
        "MOFA Japan",
        "Implementation of Measures including Asset Freeze against Those Involved in the Transfer of Arms between North Korea and Russia",
        "The Government of Japan today decided to implement asset freeze measures.",
        "designation",
        Some("JP"),
    ),
    (
        "Kyodo News",
        "JAPAN IMPOSES ASSET FREEZE ON 11 ENTITIES OVER N. KOREA-RUSSIA ARMS TRANSFERS",
        "",
        "designation",
        Some("JP"),
    ),
    (
        "Nikkei Asia",
        "Japan bans exports of 300 items to Russia including construction machinery",
        "",
        "export_control",
        Some("JP"),
    ),
    (
        "MOFA Korea",
        "Designation of North Korean individuals and vessels involved in arms trade between North Korea and Russia",
        "The Government of the Republic of Korea has decided to designate seven North Korean individuals.",
        "designation",
        Some("KR"),
    ),
    (
        "Yonhap",
        "S. Korea slaps sanctions on 7 N. Koreans, 2 Russian vessels over arms trade",
        "South Korea on Friday imposed independent sanctions on seven North Koreans.",
        "designation",
        Some("KR"),
    ),
    (
        "The Korea Herald",
        "Seoul blacklists N. Korean arms dealers, Russian cargo ships",
        "",
        "designation",
        Some("KR"),
    ),
    (
        "Global News Wire",
        "Russia-North Korea Arms Trade Takes a Hit",
        "South Korea has sanctioned seven North Korean nationals and a pair of ships over their suspected role in the arms trade with Russia.",
        "designation",
        Some("KR"),
    ),
    (
        "Global Affairs Canada",
        "Canada announces additional sanctions on Russia on second anniversary of full-scale invasion of Ukraine",
        "",
        "designation",
        Some("CA"),
    ),
    (
        "CBC News",
        "Ottawa sanctions 153 Russian entities on invasion anniversary",
        "",
        "designation",
        Some("CA"),
    ),
    (
        "DFAT Media Releases",
        "Cyber sanctions in response to Medibank Private cyberattack",
        "The Albanese Government has imposed targeted financial sanctions and a travel ban on Russian citizen Aleksandr Ermakov.",
        "designation",
        Some("AU"),
    ),
    (
        "ABC News (Australia)",
        "Australia sanctions Russian hacker Aleksandr Ermakov over Medibank data breach",
        "",
        "designation",
        Some("AU"),
    ),
    (
        "SECO Switzerland",
        "Switzerland adopts further sanctions against Russia",
        "",
        "designation",
        Some("CH"),
    ),
    (
        "Reuters",
        "China sanctions US defence firms over Taiwan arms sales",
        "",
        "designation",
        Some("CN"),
    ),
    (
        "Reuters",
        "Western sanctions on Russia: what has been done so far",
        "",
        "other",
        None,
    ),
    (
        "Politico",
        "Treasury warns banks of secondary sanctions risk for dealing with Russia",
        "",
        "other",
        Some("US"),
    ),
    (
        "Reuters",
        "Dutch court fines firm for breaching Russia sanctions",
        "",
        "enforcement",
        None,
    ),
];

#[test]
fn action_and_authority_on_realistic_titles_and_leads() {
    let mut misses = Vec::new();
    let mut right_action = 0;
    let mut right_authority = 0;
    for (source, title, lead, action, authority) in CASES {
        let r = recognise(title, lead, source);
        let got_action = r.action.as_str();
        let got_authority = r.authority.map(|a| a.code);
        if got_action == *action {
            right_action += 1;
        }
        if got_authority == *authority {
            right_authority += 1;
        }
        if got_action != *action || got_authority != *authority {
            misses.push(format!(
                "{title:?}: got {got_action}/{got_authority:?}, expected {action}/{authority:?}"
            ));
        }
    }
    println!(
        "recognition on {} cases: action {right_action}/{n}, authority {right_authority}/{n}",
        CASES.len(),
        n = CASES.len()
    );
    assert!(CASES.len() >= 40);
    assert!(misses.is_empty(), "misses:\n{}", misses.join("\n"));
}
