package msg

// eu is Basque. Names and counts are set apart (after a colon, in
// parentheses, or before a noun that takes the case ending: "{issuer}
// erakundeak"), so that no placeholder needs a declension.
var eu = map[string]string{
	"verdict.valid":          "BALIOZKOA.",
	"verdict.revoked":        "EZEZTATUA.",
	"verdict.not_valid":      "EZ DA BALIOZKOA.",
	"verdict.no_document":    "(Hartu-agiria dokumenturik gabe egiaztatu da.)",
	"verdict.registered":     "Dokumentu hau {issuer} erakundeak erregistratu zuen {when}.",
	"verdict.confirmed":      "Erregistroa berretsi zuten: {signers} (boto-ahalmenaren {share}).",
	"verdict.not_revoked":    "{when} ez zegoen ezeztatuta.",
	"verdict.revoked_on":     "{when} ezeztatu zen. Nork: {by}. Arrazoia: {reason}.",
	"verdict.status_as_of":   "Egoera hau {when} zegoen indarrean.",
	"verdict.live_checked":   "Egoera zuzenean egiaztatu da (nodoak: {checked}/{tried}).",
	"verdict.live_unchecked": "Ezin izan da egiaztatu data horren ondoren ezeztatu ote den.",
	"verdict.live_disagree":  "Kontuz: nodoek ez datoz bat. Ezeztatuta dagoela diote: {revoking}. Ez dagoela diote, egoera berean edo berriago batean: {other}.",
	"verdict.live_stale":     "Kontuz: {node} nodoak egoera zaharra ematen du ({height}. altuera; berriena {newest}. altuera da).",
	"verdict.live_failed":    "Erantzun baliozkorik ez: {nodes}.",
	"verdict.trust":          "Konfiantza-paketea: SHA-256 hatz-marka {fingerprint}.",

	"list.and":       " eta ",
	"list.others":    "beste {count} ministerio",
	"who.governance": "partzuergoaren erabakia ({id} proposamena)",
	"who.agency":     "{id} agentzia",

	"time.date":       "{year} {month} {day}",
	"time.month.1":    "urtarrilaren",
	"time.month.2":    "otsailaren",
	"time.month.3":    "martxoaren",
	"time.month.4":    "apirilaren",
	"time.month.5":    "maiatzaren",
	"time.month.6":    "ekainaren",
	"time.month.7":    "uztailaren",
	"time.month.8":    "abuztuaren",
	"time.month.9":    "irailaren",
	"time.month.10":   "urriaren",
	"time.month.11":   "azaroaren",
	"time.month.12":   "abenduaren",
	"time.at":         "{date}, {time} (UTC)",
	"time.at_one":     "{date}, {time} (UTC)",
	"time.local":      "{time} {zone}, tokiko ordua",
	"time.local_date": "{date}, {time} {zone}, tokiko ordua",
	"num.decimal":     ",",
	"num.percent":     "% {n}",

	"reason.malformed_receipt":         "Hartu-agiriaren fitxategia hondatuta dago edo ez da notarioaren hartu-agiri bat; beraz, ez du ezer frogatzen.",
	"reason.wrong_chain":               "Hartu-agiria zure konfiantza-paketeak deskribatzen duenaz bestelako notario-sare batekoa da.",
	"reason.document_mismatch":         "Dokumentua ez dator bat hartu-agiriarekin: ez da erregistratutako dokumentua, edo aldatu egin da.",
	"reason.proof_invalid":             "Dokumentua notario-sarean jasota dagoela frogatzen duen hartu-agiriaren froga ez da zuzena.",
	"reason.signature_invalid":         "Hartu-agiriko ministerio baten sinadura ez da baliozkoa: hartu-agiria aldatu edo faltsutu egin da.",
	"reason.insufficient_signatures":   "Hartu-agiria ez dute behar adina ministeriok sinatu: boto-ahalmenaren bi heren baino gehiagok berretsi behar du.",
	"reason.validator_set_not_reached": "Hartu-agiria zure konfiantza-paketeko partzuergoko kideekin lotu ezin diren balidatzaileek sinatu dute.",

	"revocation.superseded":      "dokumentu berriago batek ordezkatu du",
	"revocation.issued-in-error": "akatsez eman zen",
	"revocation.fraud":           "iruzurrez lortu zen",
	"revocation.expired":         "indarraldia amaitu zen",
	"revocation.court-order":     "epaitegiaren aginduz",
	"revocation.other":           "beste arrazoi bat",

	"live.receipt":         "hartu-agiria bera",
	"live.node":            "{node} ({error})",
	"live.err.timeout":     "ez du erantzun {seconds} segundotan",
	"live.err.unreachable": "ezin izan da konektatu",
	"live.err.http":        "HTTP {code} kodearekin erantzun du",
	"live.err.not_found":   "dokumentu hau ezagutzen ez duela dio",
	"live.err.busy":        "lanpetuta dago edo sinkronizatzen ari da",
	"live.err.too_large":   "{limit} baino gehiago bidali du",
	"live.err.malformed":   "ez du egoerarik bidali espero zen formatuan",
	"live.err.mismatch":    "beste dokumentu edo sare baten egoera bidali du",
	"live.err.not_valid":   "egoera bat bidali du, baina haren froga ez da zuzena",

	"step.receipt_format":    "Hartu-agiriaren formatua",
	"step.chain_id":          "Notario-sarea",
	"step.validator_chain":   "Balidatzaile-aldaketak",
	"step.anchor_checkpoint": "Erregistroaren blokea",
	"step.status_checkpoint": "Egoeraren blokea",
	"step.batch_record":      "Sorta",
	"step.issuer_record":     "Erakunde jaulkitzailea",
	"step.merkle_inclusion":  "Sortan sartzea",
	"step.status":            "Ezeztapena",
	"step.document":          "Dokumentua",
	"step.live_status":       "Zuzeneko egoera",

	"cli.root.short": "notarioan erregistratutako dokumentu bat egiaztatzen du; ikusi eta kontrolatu nork erabiltzen dituen zure datuak",
	"cli.root.long": `verifier-ek GobTechLab Notary partzuergoaren katean erregistratutako
dokumentuak egiaztatzen ditu: nahikoa da dokumentua, haren hartu-agiria
(*.receipt.json) eta partzuergoaren konfiantza-paketea (trust.json). Ez du
inongo nodotan konfiantzarik, konfiantza-paketetik abiatuta kateatzen diren
balidatzaile-multzoen boto-ahalmenaren bi heren baino gehiagoren
sinaduretan baizik.

  verifier verify DOKUMENTUA HARTU-AGIRIA   dokumentu bat egiaztatzen du
  verifier code KODEA [--file DOKUMENTUA]   dokumentu bat egiaztapen-kodearen bidez egiaztatzen du
  verifier inspect HARTU-AGIRIA             hartu-agiri batek dioena erakusten du (egiaztatu gabe)
  verifier trust show|fingerprint           erabiltzen den konfiantza-paketea eta bere hatz-marka
  verifier version                          bertsioa, commita eta CometBFT bertsioa

Herritar gisa, zure gakoarekin, nodo batekin hitz eginez (--node):

  verifier citizen keygen [--out DIR]       zure herritar-identitatea sortzen du
  verifier consent grant|withdraw|list      zure baimenak kudeatzen ditu
  verifier accesses --trust TRUST           nork lortu dituen zure datuak, egiaztatuta

Partzuergoaren erregistroaren lekuko gisa (kontu-epaitegi bat, unibertsitate bat):

  verifier witness init|serve               erregistroaren kontrol-puntuak kosinatzen ditu (docs/witness.md)

verify-ren irteera-kodeak: 0 baliozkoa eta ezeztatu gabea, 3 baliozkoa baina
ezeztatua, 1 ez da baliozkoa, 2 erabilera-errorea edo fitxategi irakurtezina.
Herritar-aginduenak: 0 eginda, 1 ukatua edo egiaztatu gabea, 2 erabilera-
errorea, 4 nodoa ez dago eskuragarri. SIGINT (Ctrl-C) edo SIGTERM bidez
etendako agindu batek 130 kodearekin amaitzen du. Sarrerak fitxategi
arruntak izan behar dira: hodi, gailu edo karpeta bat ukatu egiten da
(2 irteera). Testuek --lang jarraitzen dute, bestela LC_ALL, LC_MESSAGES eta
LANG (es, en, ca, gl, eu; lehenetsia gaztelania). Aukera bakoitza
NOTARY_<AUKERA> aldagaiarekin ere eman daiteke.`,
	"cli.verify.short": "dokumentu bat bere hartu-agiriarekin egiaztatzen du",
	"cli.verify.long": `verify-k egiaztatzen du DOKUMENTUA dela HARTU-AGIRIA hartu-agiriak
konfiantza-paketearen katean erregistratuta dagoela frogatzen duen
dokumentua, eta ezeztatu den ala ez. Paragrafo bat idazten du herritarrarentzat
(edo, --output json aukerarekin, urrats bakoitza eta haren emaitza).

Konfiantza-paketea ordena honetan bilatzen da: --trust, NOTARY_TRUST
aldagaia, {config}, eta programak argitaratzean barnean daramana, baldin
badago. Haren SHA-256 hatz-marka idazten da, partzuergoak argitaratzen
duenarekin alderatzeko.

Hartu-agiriak lortu zen eguneko ezeztapen-egoera dakar. Dokumentua geroago
ezeztatu den jakiteko, verify-k aldi berean galdetzen die konfiantza-
paketeko nodo publikoei eta --node aukerakoei, nodo bakoitzeko {seconds}
segundoko eta erantzun bakoitzeko 1 MBko mugarekin; erantzun bakoitza
hartu-agiria bera bezala egiaztatzen da (boto-ahalmenaren bi heren baino
gehiagoren sinadurak). --offline aukerarekin ez du sarea erabiltzen, eta
ezin izan duela egiaztatu esaten du.

Irteera-kodeak: 0 baliozkoa eta ezeztatu gabea, 3 baliozkoa baina ezeztatua
(baita nodo batek geroagoko ezeztapen bat frogatzen duenean ere), 1 ez da
baliozkoa, 2 erabilera-errorea edo fitxategi irakurtezina.`,
	"cli.flag.trust":   "partzuergoaren konfiantza-paketea (trust.json)",
	"cli.flag.node":    "uneko egoera galdetzeko nodo publiko baten URLa (errepika daiteke)",
	"cli.flag.offline": "sarerik ez erabili: hartu-agiriak dakarren egoera soilik",
	"cli.flag.lang":    "testuen hizkuntza: es, en, ca, gl edo eu (lehenetsia: LANG, bestela gaztelania)",
	"cli.flag.tz":      "tokiko orduen ordu-eremua, adib. Europe/Madrid (lehenetsia: sistemarena)",

	"cli.err.no_trust":      "Ez da konfiantza-paketerik aurkitu: eman --trust aukerarekin edo NOTARY_TRUST aldagaiarekin, edo jarri hemen: {path}.",
	"cli.err.trust_read":    "Ezin izan da konfiantza-paketea irakurri ({path}): {error}",
	"cli.err.trust_invalid": "Konfiantza-paketea ez da baliozkoa ({path}): {error}",
	"cli.err.receipt_read":  "Ezin izan da hartu-agiria irakurri ({path}): {error}",
	"cli.err.document_read": "Ezin izan da dokumentua irakurri ({path}): {error}",
	"cli.err.lang":          "Hizkuntza ezezaguna: {value}. Erabili es, en, ca, gl edo eu.",
	"cli.err.node_url":      "--node {value}: ez da http:// edo https:// helbide baliozkoa.",
	"cli.err.offline_node":  "--offline eta --node ezin dira batera erabili.",
	"cli.err.args":          "Eman dokumentua eta haren hartu-agiria: verifier verify DOKUMENTUA HARTU-AGIRIA.",

	"cli.usage.usage":        "Erabilera:",
	"cli.usage.commands":     "Aginduak:",
	"cli.usage.flags":        "Aukerak:",
	"cli.usage.global_flags": "Aukera orokorrak:",
	"cli.usage.more":         "Erabili \"{command} [agindua] --help\" agindu bati buruz gehiago jakiteko.",

	"verdict.code_no_document":  "(Egiaztapen-kodearen bidez egiaztatu da, dokumenturik gabe.)",
	"verdict.code_not_found":    "EZ DA AURKITU. Ez dago dokumenturik erregistratuta {code} egiaztapen-kodearekin.",
	"verdict.receipt_saved":     "Hartu-agiria hemen gorde da: {path}.",
	"verdict.receipt_not_saved": "Ez da hartu-agiria gorde: fitxategia ez da kode honekin erregistratutako dokumentua.",
	"code.err.empty":            "Ez da egiaztapen-koderik eman.",
	"code.err.symbol":           "Kodearen {position}. karakterea, {char}, ez da egiaztapen-kodeetan erabiltzen.",
	"code.err.confusable":       "Kodearen {position}. karakterea, {char}, ez da egiaztapen-kodeetan erabiltzen (ez dute inoiz 0, O, 1, I edo L erabiltzen).",
	"code.err.length":           "Kodeak {count} karaktere ditu; egiaztapen-kode batek {want} ditu (zuriuneak eta marratxoak kontatu gabe).",
	"code.err.check":            "Egiaztapen-kodea ez da zuzena: karaktere bat gaizki idatzi da edo bi trukatu dira. Egiaztatu dokumentuan.",
	"code.err.link":             "Estekak ez du egiaztapen-koderik.",
	"cli.code.short":            "dokumentu baten erregistroa egiaztatu bere egiaztapen-kodearen bidez",
	"cli.code.long": `code aginduak KODEA egiaztapen-kodea duen dokumentuaren erregistroa
egiaztatzen du (inprimatuta dagoen bezala, taldekatuta edo ez, edo bere QR
kodearen esteka). Gaizki idatzitako kodea hemen bertan baztertzen da, ezer
galdetu aurretik. Kodea ez da ordenagailu honetatik ateratzen: nodoei
kodetik eratorritako gako baten bidez galdetzen zaie.

Konfiantza-paketeko nodo publikoei eta --node-ekoei txandaka galdetzen
zaie kodearekin erregistratutako dokumentuaren hartu-agiria; konfiantza-
paketearekin egiaztatzen den lehen hartu-agiriak (boto-ahalmenaren bi heren
baino gehiagoren sinadurak) erakunde jaulkitzailearen izen erregistratua,
erregistro-data eta egoera ematen ditu, eta gainerako nodoei uneko egoera
galdetzen zaie, bakoitzari gehienez {seconds} s itxaronda.

--file erabilita, fitxategi hori kodearekin erregistratutako dokumentua
zehazki den esaten du, verify-ren esaldi berberekin; orduan --save-receipt
aukerak dokumentuaren hartu-agiri osoa idazten du, verify-k konexiorik gabe
onartzen duena.

Irteera-kodeak: 0 baliozkoa eta baliogabetu gabea, 3 baliozkoa baina
baliogabetua, 1 ez baliozkoa (baita: fitxategia ez da erregistratutako
dokumentua), 5 ez dago dokumenturik kodearekin erregistratuta, 2 erabilera-
errorea, gaizki idatzitako kodea edo irakurri ezin den fitxategia, 4 ezin
izan zaio inongo nodori galdetu.`,
	"cli.flag.file":            "erregistroarekin alderatzen den dokumentua (ez da inora bidaltzen)",
	"cli.flag.endpoint":        "galdetzeko beste nodo publiko baten URLa (errepika daiteke)",
	"cli.flag.save_receipt":    "dokumentuaren hartu-agiri osoa fitxategi honetan idatzi",
	"cli.err.code_args":        "Eman egiaztapen-kodea: verifier code KODEA.",
	"cli.err.endpoint_url":     "--node {value}: ez da http:// edo https:// helbide baliozkoa.",
	"cli.err.no_endpoints":     "Konfiantza-paketeak ez du galdetzeko nodo publikorik: eman bat --node bidez.",
	"cli.err.code_unreachable": "Ez du nodo batek ere erantzun egiaztapen-kodeari buruz: {nodes}.",
	"cli.err.receipt_write":    "Ezin izan da {path} hartu-agiria idatzi: {error}",

	"web.err_no_document":  "Aukeratu egiaztatu nahi duzun dokumentua.",
	"web.no_endpoints":     "Konfiantza-paketeak ez du galdetzeko nodorik adierazten: egoera agiriak dakarrena da.",
	"web.page_title":       "Erregistratutako dokumentu bat egiaztatu",
	"web.skip_link":        "Joan inprimakira",
	"web.intro":            "Egiaztatu administrazio batek dokumentu bat erregistratu zuela eta baliogabetu den. Dokumentua ez da zure ordenagailutik ateratzen: nabigatzaile honetan egiaztatzen da.",
	"web.language":         "Hizkuntza",
	"web.document":         "Dokumentua",
	"web.document_hint":    "Egiaztatu nahi duzun fitxategia. Ez da inora bidaltzen.",
	"web.receipt":          "Agiria",
	"web.receipt_hint":     "Dokumentuarekin batera datorren erregistro-agiria (.receipt.json fitxategia).",
	"web.drop_hint":        "Dokumentua eta haren agiria hona ere arrastatu ditzakezu.",
	"web.chosen":           "Aukeratua: {name} ({size})",
	"web.none_chosen":      "Ez da fitxategirik aukeratu.",
	"web.receipt_info":     "{chain} sareko agiria, {alg} hatz-marka {digest}.",
	"web.mode":             "Baliogabetze-egoera",
	"web.mode_online":      "Partzuergoaren nodoei egungo egoera galdetu",
	"web.mode_offline":     "Konexiorik gabe: agiriak dakarren egoera soilik erabili",
	"web.verify":           "Egiaztatu",
	"web.reset":            "Hasi berriro",
	"web.hashing":          "Dokumentuaren hatz-marka kalkulatzen…",
	"web.asking":           "Partzuergoaren {n} nodori galdetzen…",
	"web.checking":         "Sinadurak eta frogak egiaztatzen…",
	"web.result":           "Emaitza",
	"web.offline_note":     "Konexiorik gabe: egoera agiriak dakarrena da; ez da egiaztatu dokumentua geroago baliogabetu den.",
	"web.offline_auto":     "Ezin izan da inongo nodorekin konektatu: egoera agiriak dakarrena da.",
	"web.details":          "Xehetasun teknikoak",
	"web.steps":            "Egiaztapenak",
	"web.nodes":            "Galdetutako nodoak",
	"web.step_ok":          "zuzena",
	"web.step_failed":      "huts egin du",
	"web.step_skipped":     "saltatua",
	"web.step_not_checked": "egiaztatu gabea",
	"web.trust":            "Konfiantza-paketea",
	"web.fingerprint":      "Konfiantza-paketearen hatz-marka (SHA-256): {fp}",
	"web.trust_chain":      "{chain} sarea, {n} baliozkotzaile.",
	"web.err_no_receipt":   "Aukeratu dokumentuaren agiria.",
	"web.err_receipt":      "Agiri gisa aukeratutako fitxategia ez da notarioaren agiri bat.",
	"web.err_trust":        "Ezin izan da orri honen konfiantza-paketea (trust.json) kargatu.",
	"web.err_core":         "Ezin izan da egiaztatzailea nabigatzaile honetan kargatu.",
	"web.err_document":     "Ezin izan da dokumentua irakurri.",
	"web.err_verify":       "Ezin izan da egiaztapena osatu: {error}",
	"web.node_timeout":     "ez du erantzun {s} segundotan",
	"web.node_failed":      "ezin izan da galdetu",
	"web.footer":           "GobTechLab Notary-ren agirien egiaztatzailea. Behin kargatuta, orri honek konexiorik gabe funtzionatzen du.",

	// The web verifier's verification codes.
	"web.receipt_heading":     "Dokumentuarekin eta haren agiriarekin",
	"web.code_heading":        "Egiaztapen-kode batekin",
	"web.code_intro":          "Dokumentuak egiaztapen-kode bat edo QR kode bat inprimatuta badu, idatzi kodea edo ireki QR kodearen esteka: ikusiko duzu zein administraziok erregistratu zuen, noiz eta indarrean dagoen oraindik. Kodea ez da nabigatzaile honetatik ateratzen: nodoei haren hatz-marka bat baino ez zaie eskatzen.",
	"web.code":                "Egiaztapen-kodea",
	"web.code_hint":           "20 karaktere, adibidez 7KQ4M-XW9TR-2HDNP-C8VE6. Marratxoak eta zuriuneak aukerakoak dira, eta berdin da letra larriz edo xehez idaztea.",
	"web.code_document":       "Dokumentua (aukerakoa)",
	"web.code_document_hint":  "Dokumentuaren fitxategia baduzu, gehitu ezazu erregistratutakoa zehazki dela egiaztatzeko. Ez da inora bidaltzen.",
	"web.code_verify":         "Egiaztatu kodea",
	"web.code_err_empty":      "Idatzi egiaztapen-kodea.",
	"web.code_err_symbol":     "{pos}. karakterea, «{char}», ez da egiaztapen-kodeetan erabiltzen.",
	"web.code_err_confusable": "{pos}. karakterea, «{char}», ez da egiaztapen-kodeetan erabiltzen: ez dute inoiz 0, O, 1, I edo L.",
	"web.code_err_length":     "Kodeak {n} karaktere ditu, eta {want} izan behar ditu (zuriuneak eta marratxoak kontatu gabe).",
	"web.code_err_check":      "Kodea ez da zuzena: karaktere bat gaizki idatzi da edo bi trukatu dira. Berrikusi ezazu.",
	"web.code_err_link":       "Estekak ez du egiaztapen-koderik.",
	"web.code_asking":         "Kodea partzuergoko nodoetan bilatzen…",
	"web.code_not_found":      "Ez dago kode honekin erregistratutako dokumenturik. Egiaztatu ondo idatzi duzula.",
	"web.code_unreachable":    "Ezin izan zaio partzuergoko nodo bati ere galdetu: kode bat konexioarekin baino ezin da egiaztatu.",
	"web.code_no_endpoints":   "Konfiantza-paketeak ez du galdetzeko nodorik adierazten: kode bat ezin da haiek gabe egiaztatu.",
	"web.code_other_key":      "{node} nodoak beste kode baten erregistroarekin erantzun du; beraz, haren erantzunak ez du ezer frogatzen.",
	"web.code_no_document":    "(Kodea dokumenturik gabe egiaztatu da.)",
	"web.step_code":           "Egiaztapen-kodea",
	"web.code_agency":         "Nork erregistratu zuen",
	"web.code_registered":     "Erregistro-data",
	"web.code_status":         "Egoera",
	"web.code_not_revoked":    "Indarrean: ez dago ezeztatuta",
	"web.code_revoked_on":     "{date} ezeztatu zen: {reason}",
	"web.download":            "Deskargatu agiri osoa",
	"web.download_hint":       "Gorde dokumentuarekin batera: biekin geroago egiazta daiteke, baita konexiorik gabe ere.",

	"verdict.registered_log":           "Dokumentu hau {agency} erakundeak erregistratu zuen {height} blokean, {when}.",
	"verdict.log_checkpoint":           "Partzuergoaren ebidentzia-erregistroan jasota dago {size} tamainako kontrol-puntura arte, {signers} erakundeek sinatua, boto-ahalmenaren {share} dutenak.",
	"verdict.log_witnesses":            "Kontrol-puntua lekuko independente hauek kosinatu dute: {witnesses}.",
	"verdict.log_no_status":            "Baliogabetu ote zen ez dago hartu-agiri honetan: linean bakarrik egiaztatu daiteke, partzuergoaren nodoei galdetuz.",
	"reason.receipt_v2_required":       "Zure konfiantza-paketeak 2. bertsioko hartu-agiriak bakarrik onartzen ditu, partzuergoaren ebidentzia-erregistroari lotuak; berritu hartu-agiri hau (verifier renew).",
	"reason.checkpoint_fork":           "Hartu-agiriak zure konfiantza-paketeko ebidentzia-erregistroaren kontrol-puntua kontraesaten du: erakusten duen historia berridatzi egin zen.",
	"reason.insufficient_cosignatures": "Hartu-agiriaren ebidentzia-erregistroko kontrol-puntua ez dute kosinatu zure konfiantza-paketeak eskatzen dituen adina lekuko independentek.",
	"step.trust_policy":                "Konfiantza-politika",
	"step.log_checkpoint":              "Ebidentzia-erregistroaren kontrol-puntua",
	"step.log_inclusion":               "Ebidentzia-erregistroan sartzea",
}
