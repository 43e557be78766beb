package servicepolicy

import "time"

// The shipped policies are readings of the seed text quoted in each Source.
// Where the seed gives no figure the reading is stated in the Title, and a
// vendor changes it with ParsePolicy or Combine.

// VendorPlan returns the fiscal-register vendor's plan (seed section
// "3.3 产品的售后服务" and around it): V1-V12.
func VendorPlan() Policy {
	return Policy{Name: "vendor plan (seed 3.3)", Commitments: []Commitment{
		{ID: "V1", Title: "service hotline staffed 24x7: every call answered",
			Source: "设立服务专线电话,24小时开通 … 提供24小时全天候服务",
			Kind:   Check, Level: Mandatory, Subject: SubjectCall, Check: CheckHotline},
		{ID: "V2", Title: "urban: on site 30-60 min after the repair request",
			Source: "在接到维修请求后,市区30—60分钟到达现场",
			Kind:   Deadline, Level: Mandatory, Subject: SubjectTicket, Zones: []Zone{ZoneUrban},
			Start: EvOpened, Stop: []EventKind{EvArrived}, Unless: []EventKind{EvResolvedByPhone},
			Target: Dur(30 * time.Minute), Limit: Dur(60 * time.Minute)},
		{ID: "V3", Title: "suburb and county: on site 1-2 h after the repair request",
			Source: "城郊及周边县地1—2小时到达现场",
			Kind:   Deadline, Level: Mandatory, Subject: SubjectTicket, Zones: []Zone{ZoneSuburban, ZoneCounty},
			Start: EvOpened, Stop: []EventKind{EvArrived}, Unless: []EventKind{EvResolvedByPhone},
			Target: Dur(time.Hour), Limit: Dur(2 * time.Hour)},
		{ID: "V4", Title: "routine fault fixed within 2 h of arrival (no part, not carried in)",
			Source: "日常故障2小时内处理完毕",
			Kind:   Deadline, Level: Mandatory, Subject: SubjectTicket,
			Start: EvArrived, Stop: []EventKind{EvFixed},
			Unless: []EventKind{EvPartOrdered, EvPartReplaced, EvCarriedIn},
			Limit:  Dur(2 * time.Hour)},
		{ID: "V5", Title: "part replacement done within 24 h of the repair request",
			Source: "更换部件24小时内完成",
			Kind:   Deadline, Level: Mandatory, Subject: SubjectTicket,
			Start: EvOpened, Stop: []EventKind{EvPartReplaced}, When: []EventKind{EvPartOrdered, EvPartReplaced},
			Limit: Dur(24 * time.Hour)},
		{ID: "V6", Title: "a missed commitment is explained to the user with a reason and a plan",
			Source: "因特殊情况需向用户说明情况,尽快提出解决办法",
			Kind:   Check, Level: Mandatory, Subject: SubjectTicket, Check: CheckExplained},
		{ID: "V7", Title: "loaner handed over within 1 h of the machine leaving for repair (seed gives no figure)",
			Source: "在维修期间为用户提供备用收款机,不耽误企业的正常营业",
			Kind:   Deadline, Level: Mandatory, Subject: SubjectTicket,
			Start: EvCarriedIn, Stop: []EventKind{EvLoanerOut}, Limit: Dur(time.Hour)},
		{ID: "V8", Title: "free on-site installation within 5 days of payment",
			Source: "免费上门安装及调试 … 在纳税户付款购买收款机之后5日内完成",
			Kind:   Deadline, Level: Mandatory, Subject: SubjectMachine,
			Start: EvPaid, Stop: []EventKind{EvInstalled}, Limit: DaysSpan(5)},
		{ID: "V9", Title: "warranty contract recorded at sale",
			Source: "与企业签订保修合同",
			Kind:   Check, Level: Mandatory, Subject: SubjectMachine, Check: CheckContract},
		{ID: "V10", Title: "sale bundle complete; one fiscal card per machine, one user card per taxpayer",
			Source: "每套销售物品包括:收款机一台、收银箱一个、用户卡一张、税控卡一张、机器说明书一本、税控设备使用演示光盘一张、保修单、承诺书",
			Kind:   Check, Level: Mandatory, Subject: SubjectMachine, Check: CheckBundle,
			Items: []string{"register", "cash-drawer", "user-card", "fiscal-card", "manual", "demo-disc", "warranty-card", "commitment-letter"}},
		{ID: "V11", Title: "each customer served by its own service point",
			Source: "三级立体销售维护服务体系 … 79家服务网点",
			Kind:   Check, Level: Mandatory, Subject: SubjectTicket, Check: CheckServicePoint},
		{ID: "V12", Title: "only certified technicians dispatched",
			Source: "对内部人员实施 … 培训与考核 … 颁发相应的上岗合格证明",
			Kind:   Check, Level: Mandatory, Subject: SubjectTicket, Check: CheckCertified},
	}}
}

// AuthorityRules returns the tax authority's rules for service providers
// (seed section "1.3、售后服务"): A1-A12.
func AuthorityRules() Policy {
	return Policy{Name: "authority rules (seed 1.3)", Commitments: []Commitment{
		{ID: "A1", Title: "only authorised service units handle tickets",
			Source: "授权认证统一的服务单位 … 各级服务单位必须挂牌服务",
			Kind:   Check, Level: Mandatory, Subject: SubjectTicket, Check: CheckAuthorised},
		{ID: "A2", Title: "hotline: timely service 24x7",
			Source: "服务单位应开通税控设备服务热线 … 保证用户获得在24小时全天候的及时服务",
			Kind:   Check, Level: Mandatory, Subject: SubjectCall, Check: CheckHotline},
		{ID: "A3", Title: "complaints tracked to closure with a recorded resolution, archived",
			Source: "必须设立投诉专线电话和服务质量监督部门 … 及时处理用户的投诉,建立投诉档案",
			Kind:   Check, Level: Mandatory, Subject: SubjectContact, Topics: []Topic{TopicComplaint}, Check: CheckComplaintArchive},
		{ID: "A4", Title: "fault not solved by phone: on-site response within 24 h",
			Source: "对不能通过电话解决,要求服务单位做到24小时内响应",
			Kind:   Deadline, Level: Mandatory, Subject: SubjectTicket,
			Start: EvOpened, Stop: []EventKind{EvArrived}, Unless: []EventKind{EvResolvedByPhone},
			Limit: Dur(24 * time.Hour)},
		{ID: "A5", Title: "on-site fault removal within 1 working day (remote areas exempt)",
			Source: "现场排除故障不超过一个工作日(边远地区除外)",
			Kind:   Deadline, Level: Mandatory, Subject: SubjectTicket, Exempt: []Zone{ZoneRemote},
			Start: EvArrived, Stop: []EventKind{EvFixed}, Clock: WorkingClock, Limit: DaysSpan(1)},
		{ID: "A6", Title: "at least 2 phone callbacks per customer per year",
			Source: "服务单位须安排对用户一年不少于两次的电话回访",
			Kind:   Quota, Level: Mandatory, Subject: SubjectCustomer,
			Start: EvInstalled, Of: EvCallbackPhone, Count: 2, Per: MonthsSpan(12)},
		{ID: "A6b", Title: "at least 1 on-site visit per customer per year (best effort)",
			Source: "尽量安排不少于一次的现场回访",
			Kind:   Quota, Level: BestEffort, Subject: SubjectCustomer,
			Start: EvInstalled, Of: EvCallbackOnSite, Count: 1, Per: MonthsSpan(12)},
		{ID: "A7", Title: "new installation: a phone callback within 1 month",
			Source: "对于初次安装使用税控设备的用户必须在一个月内至少安排一次电话回访",
			Kind:   Deadline, Level: Mandatory, Subject: SubjectCustomer,
			Start: EvInstalled, Stop: []EventKind{EvCallbackPhone}, Limit: MonthsSpan(1)},
		{ID: "A8", Title: "a problem not fixed within 2 working days of the request is escalated by then",
			Source: "发现不能解决的问题,要在两个工作日内向主管公司或单位技术服务部门反映情况",
			Kind:   Deadline, Level: Mandatory, Subject: SubjectTicket,
			Start: EvOpened, Stop: []EventKind{EvFixed, EvResolvedByPhone, EvEscalated},
			Clock: WorkingClock, Limit: DaysSpan(2)},
		{ID: "A9", Title: "at most 200 customers per certified technician per unit (special areas not counted)",
			Source: "平均200个用户(特殊地区除外)配备一名技术服务人员",
			Kind:   Check, Level: Mandatory, Subject: SubjectUnit, Check: CheckStaffing, Max: 200},
		{ID: "A10", Title: "technicians work only with a valid certificate",
			Source: "定期对技术服务人员的业务能力进行考核、技术人员必须持证上岗",
			Kind:   Check, Level: Mandatory, Subject: SubjectTicket, Check: CheckCertified},
		{ID: "A11", Title: "monthly maintenance report submitted to the local tax office within 15 days after the month (seed gives no figure)",
			Source: "应把税控设备维修、维护情况定期向当地的税务部门报告",
			Kind:   Report, Level: Mandatory, Per: MonthsSpan(1), Limit: DaysSpan(15)},
		{ID: "A12", Title: "repair estimated over 3 days: loaner within 1 day (seed gives no figure)",
			Source: "判断在3天之内不能修复的,应该根据用户的实际情况向用户提供备机支持",
			Kind:   Deadline, Level: Mandatory, Subject: SubjectTicket,
			Start: EvEstimate, MinEstimate: DaysSpan(3), Stop: []EventKind{EvLoanerOut}, Limit: DaysSpan(1)},
	}}
}

// GenericPromises returns the generic pre-sale and after-sale promises of the
// seed's other plans: G1-G5.
func GenericPromises() Policy {
	return Policy{Name: "generic promises (seed)", Commitments: []Commitment{
		{ID: "G1", Title: "pre-sale inquiry answered within 24 h",
			Source: "收到客户的咨询或需求后的24小时内予以回复",
			Kind:   Deadline, Level: Mandatory, Subject: SubjectContact, Topics: []Topic{TopicInquiry},
			Start: EvReceived, Stop: []EventKind{EvReplied}, Limit: Dur(24 * time.Hour)},
		{ID: "G2", Title: "after-sale question or complaint: formal reply within 48 h",
			Source: "对于客户的问题、咨询或投诉,我们将在收到后的48小时内作出正式回复",
			Kind:   Deadline, Level: Mandatory, Subject: SubjectContact, Topics: []Topic{TopicQuestion, TopicComplaint},
			Start: EvReceived, Stop: []EventKind{EvReplied}, Limit: Dur(48 * time.Hour)},
		{ID: "G3", Title: "warranty 1 year from sale for non-human damage, with proof of purchase and serial number; covered repairs free",
			Source: "服务保障时间为产品售出后一年内 … 非人为损坏的产品质量问题 … 客户需提供购买凭证和产品序列号",
			Kind:   Check, Level: Mandatory, Subject: SubjectTicket, Check: CheckWarranty, Warranty: MonthsSpan(12)},
		{ID: "G4", Title: "after warranty: paid repair, never refused",
			Source: "保修期过后,供应商将继续为买方提供有偿维修服务",
			Kind:   Check, Level: Mandatory, Subject: SubjectTicket, Check: CheckPaidRepair, Warranty: MonthsSpan(12)},
		{ID: "G5", Title: "7x24 after-sale support line",
			Source: "7x24小时的售后支持服务",
			Kind:   Check, Level: Mandatory, Subject: SubjectCall, Check: CheckHotline},
	}}
}

// SeedPolicy combines the three shipped policies: vendor plan, authority
// rules, generic promises.
func SeedPolicy() Policy {
	return Combine("seed (vendor plan + authority rules + generic promises)", VendorPlan(), AuthorityRules(), GenericPromises())
}
