//! Action and authority recognition on realistic titles and leads: government
//! release titles (OFAC, State, OFSI, FCDO, EU Council, UN, Japan, Korea, Canada,
//! Australia), wire and newspaper headlines, headlines in capitals, and items whose
//! summary is empty; bodies shaped like scraped news pages, furniture and all, and
//! the seed article through `stories`. Prints the accuracy and fails on any miss,
//! naming it.

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

/// Bodies shaped like scraped and syndicated news pages (our own text): the title
/// again, section labels, timestamps, bylines, datelines, captions and footers before
/// and around the lead. (source, title, body, action, authority)
const SCRAPED: &[(&str, &str, &str, &str, Option<&str>)] = &[
    (
        "Wire",
        "US sanctions Chinese firms supplying Russia's drone program",
        "US sanctions Chinese firms supplying Russia's drone program\nWorld\nBy Fatima Hussein\nPublished 10:41 AM EDT, May 1, 2024\nWASHINGTON (AP) — The Biden administration on Wednesday imposed sanctions on nearly 300 people and companies in Russia and China over support for Moscow's war effort.\nRead more: What to know about sanctions on Russia",
        "designation",
        Some("US"),
    ),
    (
        "Wire",
        "EU adopts 14th sanctions package against Russia, targets LNG",
        "EU adopts 14th sanctions package against Russia, targets LNG\nBRUSSELS, June 24 (Reuters) - European Union countries adopted a 14th package of sanctions against Russia on Monday, including a ban on reloading Russian liquefied natural gas.\nReporting by Jane Doe; Editing by John Roe\nOur Standards: The Thomson Reuters Trust Principles.",
        "designation",
        Some("EU"),
    ),
    (
        "Yonhap",
        "S. Korea slaps sanctions on N. Korean hackers",
        "S. Korea slaps sanctions on N. Korean hackers\nPolitics\n2024-05-23 14:00\nSEOUL, May 23 (Yonhap) -- South Korea imposed independent sanctions Thursday on a North Korean hacking group accused of stealing cryptocurrency.\n(END)",
        "designation",
        Some("KR"),
    ),
    (
        "Kyodo",
        "Japan freezes assets of 11 entities over arms trade with Russia",
        "Japan freezes assets of 11 entities over arms trade with Russia\nBy Staff Writer\nTOKYO (Kyodo) — Japan's government said Friday it would freeze the assets of 11 entities and one individual involved in arms transfers between North Korea and Russia.\nA Russian cargo ship at the port of Vostochny in 2023. (Kyodo)",
        "designation",
        Some("JP"),
    ),
    (
        "GOV.UK",
        "UK sanctions Russian military intelligence officers",
        "UK sanctions Russian military intelligence officers\nPublished: 13 June 2024\nThe UK has today sanctioned five officers of Russia's GRU for cyber attacks on British institutions.\nShare this page",
        "designation",
        Some("GB"),
    ),
    (
        "Global Affairs Canada",
        "Canada imposes additional sanctions on Iranian officials",
        "Canada imposes additional sanctions on Iranian officials\nNews release\nToday, the Minister of Foreign Affairs announced additional sanctions under the Special Economic Measures (Iran) Regulations against 2 individuals and 2 entities.",
        "designation",
        Some("CA"),
    ),
    (
        "Wire",
        "EU removes three individuals from Russia sanctions list",
        "EU removes three individuals from Russia sanctions list\nEurope\nBy Our Correspondent\nBRUSSELS — The Council of the European Union on Thursday delisted three people after a court ruling.\nPhoto: EU flags outside the Berlaymont. Getty Images",
        "delisting",
        Some("EU"),
    ),
    (
        "Treasury",
        "Treasury Targets Shadow Fleet Moving Iranian Oil",
        "Treasury Targets Shadow Fleet Moving Iranian Oil\nPress Releases\nApril 4, 2024\nWASHINGTON — Today, the Department of the Treasury's Office of Foreign Assets Control (OFAC) is sanctioning 13 companies and 13 vessels that move Iranian oil.\n###",
        "designation",
        Some("US"),
    ),
    (
        "Bloomberg",
        "Commerce adds 16 entities to Entity List over Russia support",
        "Commerce adds 16 entities to Entity List over Russia support\nBy Jane Roe, Bloomberg\nWASHINGTON (Bloomberg) -- The Commerce Department added 16 entities in China and Turkey to the Entity List for supplying parts to Russia's military.",
        "export_control",
        Some("US"),
    ),
    (
        "UN",
        "Security Council committee adds vessel to its sanctions list",
        "Security Council committee adds vessel to its sanctions list\nSC/15000\nPress Release\nThe Security Council Committee established pursuant to resolution 1718 (2006) added one vessel to its sanctions list today.",
        "designation",
        Some("UN"),
    ),
    (
        "ABC",
        "Australia sanctions Russian cyber actor behind health insurer hack",
        "Australia sanctions Russian cyber actor behind health insurer hack\nBy political reporter\nPosted Tue 23 Jan 2024 at 11:40am\nAustralia has imposed cyber sanctions on a Russian man over the theft of millions of health records.\nPhoto: The foreign minister announced the sanctions. (ABC News)",
        "designation",
        Some("AU"),
    ),
    (
        "Wire",
        "Seoul sanctions North Korean IT workers",
        "Seoul sanctions North Korean IT workers\nNorth Korea\nKim Jong Un inspects a munitions factory in this undated photo. Reuters\nSouth Korea on Thursday designated four North Korean individuals for earning foreign currency through illicit IT work.",
        "designation",
        Some("KR"),
    ),
    (
        "Blog",
        "UK sanctions Iranian drone makers",
        "UK sanctions Iranian drone makers\nThe UK has sanctioned four Iranian individuals involved in drone production for Russia.\nRead more\nSign up for our newsletter\nDisclaimer: The copyright of this article belongs to the original author.",
        "designation",
        Some("GB"),
    ),
    (
        "Aggregator",
        "Japan, South Korea target North Korea-Russia arms trade",
        "Japan, South Korea target North Korea-Russia arms trade\nAsia\nPost At: May 25/2024 06:50PM\nSouth Korea has sanctioned seven North Korean nationals and two ships over the arms trade with Russia.\nJapan on Friday announced sanctions on 11 entities and one person.",
        "designation",
        Some("KR"),
    ),
    (
        "Wire",
        "Britain fines firm for sanctions breach",
        "Britain fines firm for sanctions breach\nBusiness\nLONDON, March 12 (Reuters) - Britain's Office of Financial Sanctions Implementation fined a London property firm 465,000 pounds for breaching Russia sanctions.\nReporting by Jane Doe; Editing by John Roe",
        "enforcement",
        Some("GB"),
    ),
];

#[test]
fn action_and_authority_see_through_scraped_page_furniture() {
    let mut misses = Vec::new();
    for (source, title, body, action, authority) in SCRAPED {
        let r = recognise(title, body, source);
        let got = (r.action.as_str(), r.authority.map(|a| a.code));
        if got != (*action, *authority) {
            misses.push(format!(
                "{title:?}: got {}/{:?}, expected {action}/{authority:?}",
                got.0, got.1
            ));
        }
    }
    println!(
        "recognition on {} scraped-shaped items: {} right",
        SCRAPED.len(),
        SCRAPED.len() - misses.len()
    );
    assert!(SCRAPED.len() >= 15);
    assert!(misses.is_empty(), "misses:\n{}", misses.join("\n"));
}

/// The worked example as a scraper delivers it (the article, title line and all, as
/// the summary) reads as South Korea's designation through the `stories` command.
#[test]
fn the_seed_article_reads_as_a_designation_by_south_korea_through_stories() {
    let article = std::fs::read_to_string(crate::support::seed_article_path()).unwrap();
    let line = serde_json::json!({
        "id": "seed",
        "source": "News",
        "title": "Russia-North Korea Arms Trade Takes a Hit",
        "summary": article,
        "published": "2024-05-25T18:50:00Z",
    });
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("seed.jsonl");
    std::fs::write(&file, format!("{line}\n")).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sanctions-watch"))
        .arg("stories")
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["action"], "designation", "{answer}");
    assert_eq!(answer["authority"], "KR", "{answer}");
}

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
